"""The OpenAPI 3.0 document of the public JSON APIs (cases for the CRM; the impact figures)."""
from __future__ import annotations

from typing import Any, Optional

from router import schemas

MONTH = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"  # a range whose start is after its end is simply empty
ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


# Request bodies: the document publishes the schemas the handlers validate with (router/schemas.py).
BODIES: dict[str, dict[str, Any]] = {name: schemas.openapi(model) for name, model in schemas.BODIES.items()}


def body_error(name: str, body: Any) -> Optional[str]:
    """Why `body` does not fit the published schema `name`, or None when it does."""
    return schemas.problem(name, body)


def _case_response(detail: bool) -> dict:
    ref = "#/components/schemas/CaseDetail" if detail else "#/components/schemas/Case"
    return {"description": "The case", "content": {"application/json": {"schema": {"$ref": ref}}}}


def _action(summary: str, body: dict | None = None) -> dict:
    op: dict[str, Any] = {"summary": summary, "security": [{"bearer": []}],
          "parameters": [{"$ref": "#/components/parameters/Ref"}],
          "responses": {"200": _case_response(True), "401": ERROR, "403": ERROR, "404": ERROR, "409": ERROR,
                        "429": ERROR}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        op["responses"]["400"] = ERROR
    return op


def _message_operation() -> dict:
    op = _action("Message the customer on their channel (web chat, SMS or email), as the case page does",
                 BODIES["message"])
    op["responses"]["201"] = {"description": "Sent; the case with `sent_on` (web, sms or email)",
                              "content": {"application/json": {"schema": {"allOf": [
                                  {"$ref": "#/components/schemas/CaseDetail"},
                                  {"type": "object", "properties": {"sent_on": {"type": "string"}}}]}}}}
    op["requestBody"]["content"]["multipart/form-data"] = {
        "schema": {"type": "object", "additionalProperties": False, "anyOf": [
            {"required": ["text"], "properties": {"text": {"pattern": schemas.NONBLANK}}},
            {"required": ["file"], "properties": {"file": {"minItems": 1}}}], "properties": {
            "text": {"type": "string", "maxLength": 5000},
            "file": {"type": "array", "maxItems": 5, "items": {"type": "string", "format": "binary"},
                     "description": "PDF, PNG, JPEG, text, CSV or office documents; each up to "
                                    "ATTACHMENT_MAX_BYTES, together ATTACHMENT_MAX_TOTAL_BYTES"}}}}
    op["responses"]["413"] = ERROR
    del op["responses"]["200"]
    return op


def _referral_operation() -> dict:
    op = _action("Refer the case to a partner: without `consent` the customer is asked on their channel (a link) "
                 "and the partner is emailed once they agree; with it (how they already agreed) at once. The "
                 "specialist stays responsible until the partner confirms through their link", BODIES["referral"])
    del op["responses"]["200"]
    op["responses"]["201"] = {"description": "The referral", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Referral"}}}}
    return op


def document(base_url: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Luukku API", "version": "1.0.0",
                 "description": "Cases for the agency's CRM (bearer token per staff user: `router users token`) "
                                "and the public impact figures."},
        "servers": [{"url": base_url.rstrip("/")}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            # Ids have a form: anything else (a NUL, another control character) is a 400 or 404 before any query.
            "parameters": {"Ref": {"name": "ref", "in": "path", "required": True,
                                   "schema": {"type": "string", "pattern": "^LK-[A-Z0-9]{6}$"}},
                           "Token": {"name": "token", "in": "path", "required": True,
                                     "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,200}$"}}},
            # What the API answers and what it takes: router/schemas.py's models, the handlers' own.
            "schemas": schemas.components(),
        },
        "paths": {
            "/api/v1/cases": {"get": {
                "summary": "List cases the token's user may see", "security": [{"bearer": []}],
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string", "default": "open",
                                                                 "enum": ["open", "taken_up", "resolved", "all"]}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                "responses": {"200": {"description": "Cases", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["cases"], "properties": {"cases": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Case"}}}}}}},
                    "400": ERROR, "401": ERROR}}},
            "/api/v1/activities": {
                "post": {"summary": "Record a proactive encounter or event (the business ID's check digit is verified)",
                         "security": [{"bearer": []}],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": BODIES["activity"]}}},
                         "responses": {"201": {"description": "Recorded", "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/Activity"}}}},
                             "400": ERROR, "401": ERROR, "429": ERROR}},
                "get": {"summary": "Activities the token's user may see, newest first", "security": [{"bearer": []}],
                        "parameters": [{"name": "limit", "in": "query",
                                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                        "responses": {"200": {"description": "Activities", "content": {"application/json": {
                            "schema": {"type": "object", "required": ["activities"], "properties": {
                                "activities": {"type": "array",
                                               "items": {"$ref": "#/components/schemas/Activity"}}}}}}},
                            "400": ERROR, "401": ERROR}}},
            "/api/v1/webhooks": {
                "post": {"summary": "Register a receiver of events, signed by the Standard Webhooks scheme (admins)",
                         "security": [{"bearer": []}],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": BODIES["webhook"]}}},
                         "responses": {"201": {"description": "Registered; the secret is in this answer only",
                                               "content": {"application/json": {
                                                   "schema": {"$ref": "#/components/schemas/Webhook"}}}},
                                       "400": ERROR, "401": ERROR, "403": ERROR, "429": ERROR}},
                "get": {"summary": "The registered receivers, without their secrets (admins)",
                        "security": [{"bearer": []}],
                        "responses": {"200": {"description": "Receivers", "content": {"application/json": {
                            "schema": {"type": "object", "required": ["webhooks"], "properties": {
                                "webhooks": {"type": "array",
                                             "items": {"$ref": "#/components/schemas/Webhook"}}}}}}},
                                      "401": ERROR, "403": ERROR, "429": ERROR}}},
            "/api/v1/campaigns": {
                "post": {"summary": "Add a campaign with its markers: the link code (/?c=CODE), an SMS keyword, an "
                                    "email tag (luukku+TAG@…), its own number (admins)",
                         "security": [{"bearer": []}],
                         "requestBody": {"required": True, "content": {"application/json": {
                             "schema": BODIES["campaign"]}}},
                         "responses": {"201": {"description": "Added", "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/Campaign"}}}},
                             "400": ERROR, "401": ERROR, "403": ERROR, "429": ERROR}},
                "get": {"summary": "Every campaign with its contacts, cases, outcomes and cost per contact so far "
                                   "(leads and admins)", "security": [{"bearer": []}],
                        "responses": {"200": {"description": "Campaigns", "content": {"application/json": {
                            "schema": {"type": "object", "required": ["campaigns"], "properties": {
                                "campaigns": {"type": "array",
                                              "items": {"$ref": "#/components/schemas/Campaign"}}}}}}},
                            "401": ERROR, "403": ERROR}}},
            "/api/v1/audit": {"get": {
                "summary": "The audit trail: who read, listed, changed or exported what, and when (admins; leads "
                           "for one of their team's cases)", "security": [{"bearer": []}],
                "parameters": [
                    {"name": "case", "in": "query", "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{0,20}$"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                "responses": {"200": {"description": "Audit events, newest first", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["events"], "properties": {"events": {
                        "type": "array", "items": {"type": "object", "required": ["at", "actor", "action"],
                                                   "properties": {
                                                       "at": {"type": "string", "format": "date-time"},
                                                       "actor": {"type": "string"}, "action": {"type": "string"},
                                                       "case": {"type": "string", "nullable": True},
                                                       "detail": {"type": "object", "nullable": True}}}}}}}}},
                    "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}}},
            "/api/v1/cases/{ref}": {"get": {
                "summary": "Read a case", "security": [{"bearer": []}],
                "parameters": [{"$ref": "#/components/parameters/Ref"}],
                "responses": {"200": _case_response(True), "401": ERROR, "404": ERROR}}},
            "/api/v1/cases/{ref}/take-up": {"post": _action("Take the case up (the customer is told)")},
            "/api/v1/cases/{ref}/notes": {"post": _action("Add a note", BODIES["note"])},
            "/api/v1/cases/{ref}/reassign": {"post": _action("Reassign to a specialist or topic", BODIES["reassign"])},
            "/api/v1/cases/{ref}/messages": {"post": _message_operation()},
            "/api/chat/{session}": {"get": {
                "summary": "The web chat's thread so far (or after message `after`): the widget redraws from it",
                "parameters": [{"name": "session", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}},
                               {"name": "after", "in": "query",
                                "schema": {"type": "integer", "minimum": 0, "maximum": 2 ** 31 - 1}}],
                "responses": {"200": {"description": "Messages in order", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thread"}}}}, "400": ERROR, "404": ERROR,
                    "429": ERROR}}},
            "/api/chat": {"post": {
                "summary": "The website chat: one customer message in, the assistant's replies out",
                "requestBody": {"required": True, "content": {"application/json": {"schema": BODIES["chat"]}}},
                "responses": {
                    "200": {"description": "Replies", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["session", "replies"], "properties": {
                            "session": {"type": "string"},
                            "replies": {"type": "array", "items": {
                                "type": "object", "required": ["text", "buttons"], "properties": {
                                    "text": {"type": "string"},
                                    "buttons": {"type": "array", "items": {
                                        "type": "object", "required": ["title", "payload"],
                                        "properties": {"title": {"type": "string"},
                                                       "payload": {"type": "string"}}}}}}}}}}}},
                    "400": ERROR, "404": ERROR, "413": ERROR, "429": ERROR}}},
            "/survey/{token}": {
                "get": {"summary": "The one-question feedback page (opening it records nothing)",
                        "parameters": [{"$ref": "#/components/parameters/Token"}],
                        "responses": {"200": {"description": "The form", "content": {"text/html": {
                            "schema": {"type": "string"}}}}, "404": {"description": "No such survey"}}},
                "post": {"summary": "Answer the survey once",
                         "parameters": [{"$ref": "#/components/parameters/Token"}],
                         "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                             "schema": {"type": "object", "required": ["score", "csrf_token"], "properties": {
                                 "score": {"type": "string", "enum": ["1", "2", "3", "4", "5"]},
                                 "comment": {"type": "string", "maxLength": 2000},
                                 "csrf_token": {"type": "string",
                                                "description": "the token in the page's own form"}}}}}},
                         "responses": {"200": {"description": "Thanks (or: already answered)", "content": {
                             "text/html": {"schema": {"type": "string"}}}},
                             "400": {"description": "No valid score, or not the page's CSRF token",
                                     "content": {"text/html": {
                                 "schema": {"type": "string"}}}},
                             "404": {"description": "No such survey"},
                             "429": {"description": "Too many answers from this address"}}}},
            "/api/impact": {"get": {
                "summary": "The impact figures (open data); counts under the threshold are given as \"< N\"; with "
                           "the board's targets against actuals",
                "parameters": [
                    {"name": "from", "in": "query", "schema": {"type": "string", "pattern": MONTH}},
                    {"name": "to", "in": "query", "schema": {"type": "string", "pattern": MONTH}},
                    {"name": "group", "in": "query",
                     "schema": {"type": "string", "enum": ["month", "channel", "topic", "campaign"]}},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}},
                    {"name": "table", "in": "query", "description": "with format=csv: `targets` gives the targets' "
                     "table instead of the groups'", "schema": {"type": "string", "enum": ["groups", "targets"]}}],
                "responses": {
                    "200": {"description": "Figures (Cache-Control: public, max-age=300; ETag)", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Impact"}},
                        "text/csv": {"schema": {"type": "string"}}}},
                    "304": {"description": "Not modified (If-None-Match)"}, "400": ERROR}}},
            "/api/v1/cases/{ref}/resolve": {"post": _action("Resolve (a survey is scheduled)", BODIES["resolve"])},
            "/api/v1/partners": {"get": {
                "summary": "The partners cases can be referred to (the directory's `partners`); with `topic` and "
                           "`language`, those serving them first", "security": [{"bearer": []}],
                "parameters": [{"name": "topic", "in": "query",
                                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,40}$"}},
                               {"name": "language", "in": "query",
                                "schema": {"type": "string", "enum": ["fi", "sv", "en"]}}],
                "responses": {"200": {"description": "Partners", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["partners"], "properties": {"partners": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Partner"}}}}}}},
                    "400": ERROR, "401": ERROR, "429": ERROR}}},
            "/api/v1/cases/{ref}/referrals": {"post": _referral_operation()},
        },
    }
