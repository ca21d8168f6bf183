"""One schema per thing a client sends (pydantic): the API validates each body with it and the OpenAPI document
publishes the same schema (`openapi(model)`), so the two cannot drift apart; the directory file and the admin form
check a specialist with the same `Specialist`."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from router.casework.actions import OUTCOMES
from router.delivery import events
from router.plan import campaign
from router.plan.activity import KINDS

# At least one visible character: controls are removed before storing, so they do not count.
NONBLANK = r"[^\s\u0000-\u001f\u007f-\u009f]"
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
Words = Annotated[str, StringConstraints(min_length=1, max_length=5000, pattern=NONBLANK)]
Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]
Kind = Literal[KINDS]  # type: ignore[valid-type]


class Body(BaseModel):
    """A JSON object with exactly these fields, each of exactly its type ("5" is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Note(Body):
    text: Words


class Message(Body):
    text: Words


class Reassign(Body):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})
    specialist: str = Field(None, min_length=1, max_length=60)  # type: ignore[assignment]
    topic: str = Field(None, min_length=1, max_length=40)  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _something(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise ValueError("give a specialist or a topic")
        return data


class Resolve(Body):
    outcome: Outcome = None
    spam: bool = None  # type: ignore[assignment]


class Activity(Body):
    kind: Kind
    date: str = Field(pattern=DAY)
    company: str = Field("", max_length=200)
    business_id: Optional[str] = Field(None, max_length=12)
    topic: Optional[str] = Field(None, max_length=40)
    participants: Optional[int] = Field(None, ge=1, le=100_000)
    note: str = Field("", max_length=2000)


class Chat(Body):
    session: Optional[str] = Field(None, min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000, pattern=NONBLANK)
    # The widget's language switch: the customer's explicit choice.
    language: Optional[Literal["fi", "sv", "en"]] = None
    # The page's ?c=CODE: the campaign that brought the customer (first message only).
    campaign: Optional[str] = Field(None, max_length=40)


class Campaign(Body):
    code: str = Field(pattern=campaign.CODE.pattern)  # the rule campaign.create applies to every caller
    name: str = Field(min_length=1, max_length=200, pattern=NONBLANK)
    starts: str = Field(pattern=DAY, json_schema_extra={"format": "date"})
    ends: str = Field(pattern=DAY, json_schema_extra={"format": "date"})
    cost: Optional[float] = Field(None, ge=0, le=10_000_000)
    sms_keyword: Optional[str] = Field(None, max_length=30)
    email_tag: Optional[str] = Field(None, max_length=40)
    number: Optional[str] = Field(None, max_length=40)


EventType = Literal[events.TYPES]  # type: ignore[valid-type]


class Referral(Body):
    partner: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    # Left out, the customer is asked on their channel (a link) and the partner hears of it once they agree; given,
    # it records how the customer already agreed ("by phone 7.12."), and the partner is told at once.
    consent: Optional[str] = Field(None, min_length=1, max_length=500, pattern=NONBLANK)


class Webhook(Body):
    # An ASCII host (an international name as punycode), a port, a path without spaces or control characters.
    url: str = Field(min_length=8, max_length=2000, pattern=events.URL_PATTERN)
    # Standard Webhooks' whsec_ and base64; left out, one is made and shown once in the answer.
    secret: Optional[str] = Field(None, min_length=10, max_length=200,
                                  pattern=r"^whsec_(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
    events: list[EventType] = Field(min_length=1, max_length=len(events.TYPES))
    # Whether events carry the customer's own words (a message's text, a survey comment, a summary).
    with_words: bool = False


BODIES: dict[str, type[Body]] = {"note": Note, "message": Message, "reassign": Reassign, "resolve": Resolve,
                                 "activity": Activity, "chat": Chat, "campaign": Campaign, "webhook": Webhook,
                                 "referral": Referral}


def problem(name: str, body: Any) -> Optional[str]:
    """Why `body` does not fit the schema `name` ("text: String should have at least 1 character"), or None."""
    try:
        BODIES[name].model_validate(_checkable(body))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = "/".join(str(p) for p in first["loc"])
        return f"{where + ': ' if where else ''}{first['msg']}"[:300]
    return None


def _checkable(value: Any) -> Any:
    """A lone surrogate (valid in JSON, not in UTF-8) as U+FFFD for the check: the handlers remove it before storing
    (`sanitize.clean`), as before, and what is left decides (an empty chat message is said in the customer's words)."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _LONE.search(value) else value
    if isinstance(value, dict):
        return {k: _checkable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_checkable(v) for v in value]
    return value


_LONE = re.compile("[\ud800-\udfff]")


def openapi(model: type[BaseModel], mode: Literal["validation", "serialization"] = "validation") -> dict[str, Any]:
    """The model's JSON Schema as OpenAPI 3.0 writes it: nested models inline, `nullable` instead of a null type, no
    titles or defaults."""
    schema = model.model_json_schema(mode=mode, by_alias=True)
    return _thirty(_inline(schema, schema.pop("$defs", {})))


def _thirty(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_thirty(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if options and any(o == {"type": "null"} for o in options):
        rest = [o for o in options if o != {"type": "null"}]
        merged = {**_thirty(rest[0]), "nullable": True} if len(rest) == 1 else {"anyOf": _thirty(rest),
                                                                               "nullable": True}
        return {**{k: _thirty(v) for k, v in schema.items() if k not in ("anyOf", "title", "default")}, **merged}
    return {k: _thirty(v) for k, v in schema.items() if (k not in ("title", "default")
            or (k == "title" and isinstance(v, dict))) and not (k == "additionalProperties" and v is True)}


# --- a specialist: the directory file and the admin form check one by the same rules ------------------------------
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
Language = Literal["fi", "sv", "en"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, StringConstraints(pattern=HHMM)]


class Specialist(BaseModel):
    """One person of the directory, as the file writes them (the admin form fills the same fields)."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=120)
    title: str | dict[Language, str]
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: Optional[str] = Field(None, max_length=40)
    topics: list[str] = Field(min_length=1)
    languages: list[Language] = Field(min_length=1)
    working_hours: dict[Day, tuple[Clock, Clock]] = Field(default_factory=dict)
    absences: list[tuple[date, date]] = Field(default_factory=list)
    deputy: Optional[str] = None
    active: bool = True
    team: str = ""
    notify: Literal["email", "sms"] = "email"

    @model_validator(mode="after")
    def _consistent(self) -> "Specialist":
        for day, (start, end) in self.working_hours.items():
            if start >= end:
                raise PydanticCustomError("hours", "working_hours {day}: the end is before the start", {"day": day})
        if any(end < start for start, end in self.absences):
            raise PydanticCustomError("absences", "absences: one ends before it starts")
        if self.notify == "sms" and not self.phone:
            raise PydanticCustomError("notify", "notify: sms needs a phone")
        if self.deputy == self.key:
            raise PydanticCustomError("deputy", "deputy: not oneself")
        return self

    def in_directory(self, topics: set[str], keys: set[str]) -> list[tuple[str, str]]:
        """What does not fit the rest of the directory: (field, what), e.g. an unknown topic or deputy."""
        wrong = []
        if set(self.topics) - topics:
            wrong.append(("topics", f"unknown topics {sorted(set(self.topics) - topics)}"))
        if self.deputy and self.deputy not in keys:
            wrong.append(("deputy", f"deputy {self.deputy!r} is not in the directory"))
        return wrong

    def row(self) -> dict[str, Any]:
        """The values of a `storage.models.Specialist` row."""
        titles = self.title if isinstance(self.title, dict) else {lang: self.title for lang in ("fi", "sv", "en")}
        return {"key": self.key, "name": self.name, "titles": dict(titles), "email": self.email, "phone": self.phone,
                "topics": list(self.topics), "languages": list(self.languages),
                "working_hours": {d: list(v) for d, v in self.working_hours.items()},
                "absences": [[a.isoformat(), b.isoformat()] for a, b in self.absences], "deputy_key": self.deputy,
                "active": self.active, "team": self.team, "notify_by": self.notify}


PARTNER_KINDS = ("enterprise_agency", "employment_services", "business_finland", "ely_centre", "other")


class Partner(BaseModel):
    """An organisation cases are referred to, as the directory file's `partners:` writes it."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal[PARTNER_KINDS]  # type: ignore[valid-type]
    topics: list[str] = Field(min_length=1)
    languages: list[Language] = Field(min_length=1)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    area: str = Field("", max_length=200)
    active: bool = True


def specialist_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """A refused specialist's problems as (field, English detail), the field being the entry's own name."""
    out = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else error["type"]
        out.append((field, f"{'/'.join(str(p) for p in error['loc']) + ': ' if error['loc'] else ''}{error['msg']}"))
    return out


# --- what the API answers: the OpenAPI document's components are these models ------------------------------------
class Answer(BaseModel):
    """A response object as the handlers write it (`case_json`, `activity.as_dict`, …)."""


class Error(Answer):
    error: str


class Person(Answer):
    key: str
    name: str


class Customer(Answer):
    # What the customer told us; any of it may be missing.
    name: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None
    company: Optional[str] = None
    business_id: Optional[str] = Field(None, description="a business ID given with the company (check digit right); "
                                       "the register's name fills `company` when only the ID was given")


class Case(Answer):
    ref: str
    status: Literal["open", "taken_up", "resolved"]
    topic: str
    channel: str
    language: str
    kind: str
    specialist: Person
    customer: Customer
    created_at: datetime
    due_at: datetime
    taken_up_at: Optional[datetime]
    taken_up_in_time: Optional[bool]
    resolved_at: Optional[datetime]
    outcome: Optional[str]
    unread: int = Field(ge=0, description="the customer's messages that the assigned specialist has not yet seen")


class Event(Answer):
    kind: str
    text: str
    at: datetime


class VerifiedAddress(Answer):
    address: str
    kind: Literal["phone", "email"]
    how: Literal["twilio", "email_reply"] = Field(description="a number Twilio signed; an email address that "
                                                              "answered the service's mail")
    verified_at: datetime


class CustomerRecord(Answer):
    addresses: list[VerifiedAddress]
    cases: list[str] = Field(description="the customer's other cases (references), newest first")


class CaseMore(Answer):
    summary: str
    events: list[Event]
    customer_record: Optional[CustomerRecord] = Field(
        description="the same person on every channel (verified addresses, staff's merges); null without one")


class ActivityRecord(Answer):
    id: int
    kind: str
    date: str
    company: str
    business_id: Optional[str]
    topic: Optional[str]
    participants: Optional[int]
    note: str
    source: str


class CampaignResults(Answer):
    code: str
    name: str
    starts: date = Field(json_schema_extra={"format": "date"})
    ends: date
    cost: Optional[float]
    sms_keyword: Optional[str] = None
    email_tag: Optional[str] = None
    number: Optional[str] = None
    contacts: int = 0
    cases: int = 0
    outcomes: dict[str, Any] = Field(default_factory=dict)
    cost_per_contact: Optional[float] = None


Count = Annotated[Optional[str], Field(description="a number, or \"< N\" when small")]
Share = Optional[float]
Measure = Literal["encounters", "companies_located", "jobs", "contacts", "promise_kept_share", "satisfaction"]


class Figures(Answer):
    key: str = ""
    contacts: Count = None
    cases: Count = None
    in_time_share: Share = None
    median_hours_to_take_up: Share = None
    answers: Count = None
    response_rate: Share = None
    satisfaction: Share = None
    scores: Optional[dict[str, Count]] = None


class Target(Answer):
    measure: Measure
    year: int
    month: Optional[int] = Field(None, description="null for the year's target")
    target: float
    actual: Optional[float] = Field(description="to date (through `through`); null when too few to show")
    pace: Optional[float] = Field(description="a count: needed per month from now on; a share or an average: the "
                                              "level the rest of the period must hold; null once the period is over")
    expected: float = Field(0.0, description="where the actual should be by now")
    previous: Optional[float] = Field(None, description="the same stretch of the previous year")
    through: Optional[date] = None
    ends: date = Field(None, description="the period's last day")  # type: ignore[assignment]


class Impact(Answer):
    model_config = ConfigDict(populate_by_name=True)
    first: str = Field(alias="from")
    to: str
    group: str
    threshold: int
    total: Figures
    groups: list[Figures]
    contacts_by_month_and_channel: dict[str, Any] = Field(default_factory=dict)
    cases_by_month_and_topic: dict[str, Any] = Field(default_factory=dict)
    outcomes: dict[str, Any] = Field(default_factory=dict)
    customers: int = 0
    customers_shown: Count = None
    activities: dict[str, Any] = Field(default_factory=dict, description="activities organised, by kind")
    event_participants: int = 0
    located: dict[str, Any] = Field(default_factory=dict, description="companies located here and their jobs")
    referrals: dict[str, Any] = Field(default_factory=dict, description="cases referred to partners: sent, "
                                      "confirmed by the partner, confirmed in time; in all and by_partner_kind")
    targets: list[Target] = Field(default_factory=list)


class Button(Answer):
    title: str
    payload: str


class SentFile(Answer):
    name: str
    size: int
    url: str = Field(description="a signed download link that expires FILE_LINK_DAYS after the file was sent")


class ThreadMessage(Answer):
    id: int
    author: Literal["customer", "bot", "staff"]
    name: Optional[str]
    text: str
    buttons: list[Button]
    files: list[SentFile] = Field(default_factory=list, description="files a specialist sent with the message")
    at: datetime


class Thread(Answer):
    session: str
    messages: list[ThreadMessage]


class WebhookEndpoint(Answer):
    id: int
    url: str
    events: list[str]
    with_words: bool
    active: bool
    created_at: datetime
    secret: Optional[str] = Field(None, description="only in the answer that registered it")


class PartnerEntry(Answer):
    key: str
    name: str
    kind: str = Field(description="enterprise_agency, employment_services, business_finland, ely_centre or other")
    topics: list[str]
    languages: list[str]
    email: str
    area: str


class ReferralRecord(Answer):
    id: int
    case: str
    partner: PartnerEntry
    status: Literal["asked", "sent", "confirmed", "declined", "withdrawn"] = Field(
        description="asked: waiting for the customer's consent; sent: with the partner, waiting for their "
                    "confirmation; confirmed; declined by the customer; withdrawn (the case was closed)")
    created_at: datetime
    consented_at: Optional[datetime]
    sent_at: Optional[datetime]
    due_at: Optional[datetime] = Field(description="when the partner should confirm (the promise's working days)")
    confirmed_at: Optional[datetime]
    confirmed_in_time: Optional[bool]
    responsible: str = Field(description="the specialist responsible until the partner confirms")


ANSWERS: dict[str, type[BaseModel]] = {"Error": Error, "Case": Case, "Activity": ActivityRecord,
                                       "Webhook": WebhookEndpoint, "Partner": PartnerEntry,
                                       "Referral": ReferralRecord,
                                       "Campaign": CampaignResults, "Figures": Figures, "Impact": Impact,
                                       "Target": Target, "Thread": Thread}


def components() -> dict[str, Any]:
    """The answers' schemas for the OpenAPI document, nested objects inline as the handlers write them."""
    out = {name: openapi(model, "serialization") for name, model in ANSWERS.items()}
    # A case in detail is a case and more.
    out["CaseDetail"] = {"allOf": [{"$ref": "#/components/schemas/Case"}, openapi(CaseMore)]}
    return out


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [_inline(s, defs) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs) | {k: v for k, v in schema.items()
                                                                         if k != "$ref"}
    return {k: _inline(v, defs) for k, v in schema.items()}
