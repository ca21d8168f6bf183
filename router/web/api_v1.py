"""JSON API for the agency's CRM: cases with per-user bearer tokens, described by an OpenAPI document."""
from __future__ import annotations

import re
from datetime import date
from functools import wraps
from typing import Any, Optional

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from router import sanitize
from router.casework import actions as casework
from router.casework import customer, files, inbox, referral
from router.delivery import events
from router.impact import rollups as impact
from router.plan import activity as activity_mod
from router.plan import campaign as campaign_mod
from router.staff import access, audit, users
from router.storage.models import Activity, Case, CaseEvent, WebhookEndpoint
from router.web import clock, db, settings
from router.web import openapi as api_doc
from router.web.staff import uploaded_files

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


def _error(status: int, message: str):
    return jsonify(error=message), status


def token_required(view):
    @wraps(view)
    def checked(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        user = users.by_token(db(), header[7:].strip()) if header.startswith("Bearer ") else None
        if user is None:
            return _error(401, "a valid bearer token is required")
        g.api_user = user
        return view(*args, **kwargs)
    return checked


def case_json(case: Case, detail: bool = False, unread: Optional[int] = None) -> dict:
    """A case as the API gives it; `unread`: its count when the caller has it (a list counts all in one query)."""
    body: dict[str, Any] = {
        "ref": case.ref, "status": case.status, "topic": case.topic, "channel": case.channel,
        "language": case.language, "kind": case.kind,
        "specialist": {"key": case.specialist.key, "name": case.specialist.name},
        "customer": {"name": case.customer_name, "email": case.customer_email, "phone": case.customer_phone,
                     "company": case.company, "business_id": case.business_id},
        "created_at": case.created_at.isoformat() + "Z", "due_at": case.due_at.isoformat() + "Z",
        "taken_up_at": case.taken_up_at.isoformat() + "Z" if case.taken_up_at else None,
        "taken_up_in_time": case.taken_up_in_time,
        "resolved_at": case.resolved_at.isoformat() + "Z" if case.resolved_at else None,
        "outcome": case.outcome,
        # the customer's messages that the assigned specialist has not yet seen on the case page
        "unread": inbox.unread(db(), [case])[case.id] if unread is None else unread,
    }
    if detail:
        events = db().scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
        body["summary"] = case.summary
        body["events"] = [{"kind": e.kind, "text": e.text, "at": e.created_at.isoformat() + "Z"} for e in events]
        known = customer.history(db(), case)
        body["customer_record"] = {
            "addresses": [{"address": a.address, "kind": a.kind, "how": a.how,
                           "verified_at": a.verified_at.isoformat() + "Z"} for a in known.addresses],
            "cases": [c.ref for c in known.cases]} if known.customer_id else None
    return body


def _today():
    return access.local_today(clock(), settings().timezone)


def _case(ref: str):
    """The case if the token's user may read it (None otherwise: another's case is as good as absent)."""
    case = db().scalar(select(Case).where(Case.ref == ref[:20]))
    if case is None or not access.permits(db(), g.api_user, access.READ, case, _today()):
        return None
    return case


def _limit(default: int, most: int) -> Optional[int]:
    """The `limit` query parameter (1 to `most`, `default` when absent), or None when it is not one."""
    raw = request.args.get("limit", str(default))
    return int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= most else None


def _body(schema: str):
    """The JSON body if it fits the published schema; otherwise a 400 to return, with nothing changed."""
    body = request.get_json(silent=True) if request.is_json else None
    if body is None:
        return None, _error(400, "send a JSON object (Content-Type: application/json)")
    problem = api_doc.body_error(schema, body)
    return (body, None) if problem is None else (None, _error(400, problem))


@bp.get("/cases")
@token_required
def list_cases():
    status = request.args.get("status", "open")
    if status not in ("open", "taken_up", "resolved", "all"):
        return _error(400, "status must be open, taken_up, resolved or all")
    limit = _limit(100, 500)
    if limit is None:
        return _error(400, "limit must be a number from 1 to 500")
    query = select(Case).where(access.case_filter(db(), g.api_user, _today())).order_by(Case.due_at) \
        .limit(limit)
    if status != "all":
        query = query.where(Case.status == status)
    found = db().scalars(query).all()
    counts = inbox.unread(db(), found)
    cases = [case_json(c, unread=counts[c.id]) for c in found]
    audit.record(db(), "case_list", user=g.api_user, now=clock(), detail={"via": "api", "count": len(cases)})
    return jsonify(cases=cases)


@bp.get("/cases/<ref>")
@token_required
def read_case(ref: str):
    case = _case(ref)
    if case is None:
        return _error(404, "no such case")
    audit.record(db(), "case_read", user=g.api_user, case_ref=case.ref, now=clock(), detail={"via": "api"})
    return jsonify(case_json(case, detail=True))


@bp.post("/activities")
@token_required
def add_activity():
    """A proactive encounter or event, recorded by the token's user (their directory entry is the specialist)."""
    body, problem = _body("activity")
    if problem:
        return problem
    try:
        day = date.fromisoformat(body["date"])
        company, looked = activity_mod.company_for(db(), settings(), body.get("business_id") or "",
                                                   sanitize.clean(body.get("company", ""), 200), clock())
        made = activity_mod.record(
            db(), kind=body["kind"], day=day, company=company,
            business_id_text=body.get("business_id") or "", topic=body.get("topic"),
            participants=body.get("participants"), note=sanitize.clean(body.get("note", ""), 2000),
            user=g.api_user, source="api", now=clock())
    except (activity_mod.ActivityError, ValueError) as exc:
        db().rollback()
        return _error(400, str(exc))
    impact.refresh_if_old(db(), [made.day.strftime("%Y-%m")], clock(), settings().timezone)
    answer = activity_mod.as_dict(made)
    if looked is not None:  # what the trade register said of the business ID (found, unknown, unreachable)
        answer["registry"] = looked.as_dict()
    return jsonify(answer), 201


@bp.get("/activities")
@token_required
def list_activities():
    limit = _limit(200, 1000)
    if limit is None:
        return _error(400, "limit must be a number from 1 to 1000")
    rows = db().scalars(select(Activity).where(access.activity_filter(g.api_user))
                        .order_by(Activity.day.desc(), Activity.id.desc()).limit(limit))
    return jsonify(activities=[activity_mod.as_dict(a) for a in rows])


@bp.post("/campaigns")
@token_required
def add_campaign():
    """A marketing campaign and its markers (admins)."""
    if not access.manages_campaigns(g.api_user):
        return _error(403, "only admins add campaigns")
    body, problem = _body("campaign")
    if problem:
        return problem
    try:
        made = campaign_mod.create(db(), {**body, "name": sanitize.clean(body["name"], 200)}, clock())
    except campaign_mod.CampaignError as exc:
        db().rollback()
        return _error(400, str(exc))
    audit.record(db(), "campaign_add", user=g.api_user, now=clock(), detail={"code": made.code})
    return jsonify(campaign_mod.as_dict(made)), 201


@bp.get("/campaigns")
@token_required
def list_campaigns():
    """Every campaign with its contacts, cases, outcomes and cost per contact so far (leads and admins)."""
    if not access.reads_board_figures(g.api_user):
        return _error(403, "only leads and admins see campaigns")
    return jsonify(campaigns=campaign_mod.results(db()))


@bp.post("/webhooks")
@token_required
def add_webhook():
    """A receiver of events (admins); the secret is made when none is given, and shown in this answer only."""
    if not access.manages_webhooks(g.api_user):
        return _error(403, "only admins register webhooks")
    body, problem = _body("webhook")
    if problem:
        return problem
    try:
        made = events.register(db(), settings(), url=body["url"], secret=body.get("secret"), events=body["events"],
                               with_words=body.get("with_words") is True, now=clock(), by=g.api_user.email)
    except events.EndpointError as exc:
        db().rollback()
        return _error(400, str(exc))
    audit.record(db(), "webhook_add", user=g.api_user, now=clock(), detail={"id": made.id, "events": made.events})
    return jsonify(events.as_dict(made, with_secret=True)), 201


@bp.get("/webhooks")
@token_required
def list_webhooks():
    if not access.manages_webhooks(g.api_user):
        return _error(403, "only admins see webhooks")
    return jsonify(webhooks=[events.as_dict(e) for e in db().scalars(select(WebhookEndpoint)
                                                                       .order_by(WebhookEndpoint.id))])


@bp.get("/audit")
@token_required
def audit_trail():
    """Who read or changed what: one case's trail, or all an admin (everything) or a lead (their team's cases) may
    read."""
    limit = _limit(200, 1000)
    if limit is None:
        return _error(400, "limit must be a number from 1 to 1000")
    ref = request.args.get("case")
    if ref is not None:
        case = db().scalar(select(Case).where(Case.ref == ref[:20]))
        if case is None or not access.permits(db(), g.api_user, access.READ, case, _today()):
            return _error(404, "no such case")
        if not access.permits(db(), g.api_user, access.AUDIT, case, _today()):
            return _error(403, "only admins and the team's lead see who read a case")
        ref = case.ref
    elif not access.reads_audit_trail(g.api_user):
        return _error(403, "only admins and team leads see the audit trail")
    events = [{"at": e.created_at.isoformat() + "Z", "actor": e.actor, "action": e.action, "case": e.case_ref,
               "detail": e.detail} for e in audit.trail(db(), g.api_user, ref, limit, clock())]
    return jsonify(events=events)


def _action(ref: str, act):
    case = _case(ref)
    if case is None:
        return _error(404, "no such case")
    if not access.permits(db(), g.api_user, access.WRITE, case, _today()):
        return _error(403, "this case is no longer yours to act on")
    session = db()
    try:
        act(session, case)
    except casework.CaseworkError as exc:
        session.rollback()
        return _error(409, str(exc))
    return jsonify(case_json(case, detail=True))


@bp.post("/cases/<ref>/take-up")
@token_required
def api_take_up(ref: str):
    return _action(ref, lambda s, c: casework.take_up(s, settings(), c, g.api_user, clock()))


@bp.post("/cases/<ref>/notes")
@token_required
def api_note(ref: str):
    body, error = _body("note")
    if error:
        return error
    return _action(ref, lambda s, c: casework.note(s, c, g.api_user, sanitize.clean(body["text"], 5000), clock()))


@bp.post("/cases/<ref>/reassign")
@token_required
def api_reassign(ref: str):
    body, error = _body("reassign")
    if error:
        return error
    return _action(ref, lambda s, c: casework.reassign(s, settings(), c, g.api_user, clock(),
                                                       specialist_key=body.get("specialist"),
                                                       topic=body.get("topic")))


@bp.post("/cases/<ref>/messages")
@token_required
def api_message(ref: str):
    """Message the customer on their channel, exactly as the case page's form does: JSON `{"text"}`, or
    multipart/form-data with `text` and one or more `file`."""
    if request.mimetype == "multipart/form-data":
        text = request.form.get("text", "")
        if set(request.form) - {"text"} or set(request.files) - {"file"}:
            return _error(400, "multipart fields are text and file")
        uploads = uploaded_files()
        if not text.strip() and not uploads:
            return _error(400, "send text, a file, or both")
        try:
            files.accept(uploads, settings().attachment_max_bytes, settings().attachment_max_total_bytes)
        except files.FileRefused as exc:
            return _error(400, str(exc))
        body = {"text": text}
    else:
        body, error = _body("message")
        if error:
            return error
        uploads = []
    sent = {}

    def act(s, c):
        sent["channel"] = casework.message_customer(s, settings(), c, g.api_user, sanitize.clean(body["text"], 5000),
                                                    clock(), uploads)

    response = _action(ref, act)
    if isinstance(response, tuple):
        return response
    detail = response.get_json()
    return jsonify({**detail, "sent_on": sent.get("channel")}), 201


@bp.get("/partners")
@token_required
def list_partners():
    """The partners cases can be referred to; with `topic` (and `language`), those serving it first."""
    topic, language = request.args.get("topic"), request.args.get("language")
    if topic is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", topic):
        return _error(400, "topic is a topic's key")
    if language is not None and language not in ("fi", "sv", "en"):
        return _error(400, "language is fi, sv or en")
    found = referral.partners(db(), topic, language)
    return jsonify(partners=[referral.as_dict(p) for p in found])


@bp.post("/cases/<ref>/referrals")
@token_required
def api_refer(ref: str):
    """Refer the case to a partner: the customer is asked for consent, or `consent` records how they gave it."""
    body, error = _body("referral")
    if error:
        return error
    made = {}

    def act(s, c):
        made["referral"] = referral.refer(s, settings(), c, g.api_user, body["partner"], clock(),
                                          consent=sanitize.clean(body["consent"], 500) if body.get("consent") else None)

    response = _action(ref, act)
    if isinstance(response, tuple):
        return response
    audit.record(db(), "case_refer", user=g.api_user, case_ref=ref, now=clock(),
                 detail={"partner": body["partner"], "consent": "recorded" if body.get("consent") else "asked"})
    return jsonify(referral.referral_dict(made["referral"])), 201


@bp.post("/cases/<ref>/resolve")
@token_required
def api_resolve(ref: str):
    body, error = _body("resolve")
    if error:
        return error
    return _action(ref, lambda s, c: casework.resolve(s, settings(), c, g.api_user, clock(),
                                                      outcome=body.get("outcome"), spam=body.get("spam") is True))


@bp.get("/openapi.json")
def openapi():
    from router.web.openapi import document

    return jsonify(document(settings().public_base_url))
