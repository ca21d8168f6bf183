"""Campaigns and attribution: which campaign's marker brought a conversation's first message.

The markers are a web link's code (`/?c=CODE`, carried by the widget into `/api/chat`), an SMS keyword (the
first word of a new conversation's first text), an email subaddress (`luukku+TAG@…`) and a number of the
campaign's own (Twilio's `To`). Attribution is first touch: it is decided when a conversation starts and never
changes, so a campaign's contacts are counted from their first message. A marker counts only from the
campaign's first day to its last (in the agency's time zone); outside them it is ordinary text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.plan import FieldError
from router.storage.models import Campaign

CODE = re.compile(r"^[A-Za-z0-9_-]{2,40}$")
KEYWORD = re.compile(r"^[A-Za-z0-9ÅÄÖåäö]{2,30}$")
# SMS words the channel itself answers: a campaign may not take them.
RESERVED_KEYWORDS = {"stop", "lopeta", "sluta", "stopp", "unsubscribe", "start", "aloita", "börja", "unstop",
                     "help", "apua", "hjälp", "hjalp", "info"}


class CampaignError(FieldError):
    """What is wrong with a campaign as given."""


@dataclass(frozen=True)
class Marker:
    """A campaign's markers, as the attribution rules need them."""

    code: str
    starts: date
    ends: date
    sms_keyword: Optional[str] = None
    email_tag: Optional[str] = None
    number: Optional[str] = None

    def runs_on(self, day: date) -> bool:
        return self.starts <= day <= self.ends


# --- the rules (pure) ---------------------------------------------------------------------------
def from_link(markers: Iterable[Marker], code: Optional[str], day: date) -> Optional[str]:
    """The campaign of a web link's `?c=CODE` (any case), if it runs today."""
    wanted = (code or "").strip().lower()
    return next((m.code for m in markers if wanted and m.code.lower() == wanted and m.runs_on(day)), None)


def from_sms(markers: Iterable[Marker], body: str, to_number: Optional[str], day: date) -> tuple[Optional[str], str]:
    """(campaign, the text without its keyword) for a new conversation's first SMS.

    The campaign's own number wins over a keyword; a keyword counts only as the first word ("TONTTI kerro lisää").
    """
    markers = [m for m in markers if m.runs_on(day)]
    number = _digits(to_number)
    for m in markers:
        if number and m.number and _digits(m.number) == number:
            return m.code, body
    first, _, rest = body.strip().partition(" ")
    word = first.strip(" .,!?").lower()
    for m in markers:
        if m.sms_keyword and word == m.sms_keyword.lower():
            return m.code, rest.strip()
    return None, body


def from_call(markers: Iterable[Marker], to_number: Optional[str], day: date) -> Optional[str]:
    """The campaign whose own number was called."""
    number = _digits(to_number)
    return next((m.code for m in markers if number and m.number and _digits(m.number) == number
                 and m.runs_on(day)), None)


def from_email(markers: Iterable[Marker], recipients: Iterable[str], service_email: str, day: date) -> Optional[str]:
    """The campaign of a subaddress of the service's own address: `luukku+TAG@city.example.org`."""
    local, _, domain = service_email.lower().partition("@")
    tags = set()
    for address in recipients:
        user, _, host = address.lower().partition("@")
        base, plus, tag = user.partition("+")
        if plus and base == local and host == domain and tag:
            tags.add(tag)
    return next((m.code for m in markers if m.email_tag and m.email_tag.lower() in tags and m.runs_on(day)), None)


def _digits(number: Optional[str]) -> str:
    return re.sub(r"[^\d]", "", number or "")


# --- storage ------------------------------------------------------------------------------------
def markers(session: Session) -> list[Marker]:
    """Every campaign's markers (a handful of rows; read only when a conversation starts)."""
    return [Marker(c.code, c.starts, c.ends, c.sms_keyword, c.email_tag, c.number)
            for c in session.scalars(select(Campaign))]


def create(session: Session, body: dict[str, Any], now: datetime) -> Campaign:
    """Check and add a campaign in the caller's transaction (CampaignError says what to fix)."""
    code = str(body.get("code") or "").strip()
    if not CODE.match(code) or code.lower() == "none":
        raise CampaignError("code is 2–40 letters, digits, - or _, not \"none\" (it goes in the link: /?c=CODE)",
                            "campaign_code", "code")
    name = str(body.get("name") or "").strip()
    if not name:
        raise CampaignError("name is required", "name", "required")
    try:
        starts, ends = date.fromisoformat(str(body.get("starts"))), date.fromisoformat(str(body.get("ends")))
    except ValueError as exc:
        raise CampaignError("starts and ends are dates (YYYY-MM-DD)", "starts", "date") from exc
    if ends < starts:
        raise CampaignError("ends is before starts", "ends", "ends_before")
    cost = body.get("cost")
    # Stored in cents in a 32-bit column: ten million euros is the ceiling.
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float)) or not 0 <= cost <= 1e7):
        raise CampaignError("cost is a number of euros from 0 to 10000000", "cost", "whole", low=0, high="10 000 000")
    keyword = (body.get("sms_keyword") or "").strip() or None
    if keyword and (not KEYWORD.match(keyword) or keyword.lower() in RESERVED_KEYWORDS):
        raise CampaignError("sms_keyword is one word of 2–30 letters or digits, not STOP, START or HELP", "sms_keyword",
                            "sms_keyword")
    tag = (body.get("email_tag") or "").strip() or None
    if tag and not CODE.match(tag):
        raise CampaignError("email_tag is 2–40 letters, digits, - or _ (luukku+TAG@…)", "email_tag", "code")
    number = (body.get("number") or "").strip() or None
    if number and not re.match(r"^\+\d{6,15}$", number):
        raise CampaignError("number is the campaign's own number in E.164 (+358…)", "number", "phone")
    existing = list(session.scalars(select(Campaign)))
    for other in existing:
        if other.code.lower() == code.lower():
            raise CampaignError(f"a campaign with code {other.code} exists", "campaign_code", "taken", other=other.code)
        overlaps = other.starts <= ends and starts <= other.ends
        if overlaps and keyword and (other.sms_keyword or "").lower() == keyword.lower():
            raise CampaignError(f"campaign {other.code} uses the SMS keyword {keyword} at the same time",
                                "sms_keyword", "taken", other=other.code)
        if overlaps and tag and (other.email_tag or "").lower() == tag.lower():
            raise CampaignError(f"campaign {other.code} uses the email tag {tag} at the same time", "email_tag",
                                "taken", other=other.code)
        if overlaps and number and _digits(other.number) == _digits(number):
            raise CampaignError(f"campaign {other.code} uses the number {number} at the same time", "number",
                                "taken", other=other.code)
    row = Campaign(code=code, name=name[:200], starts=starts, ends=ends,
                   cost_cents=None if cost is None else round(cost * 100), sms_keyword=keyword, email_tag=tag,
                   number=number, created_at=now)
    session.add(row)
    session.flush()
    return row


def as_dict(c: Campaign) -> dict[str, Any]:
    return {"code": c.code, "name": c.name, "starts": c.starts.isoformat(), "ends": c.ends.isoformat(),
            "cost": None if c.cost_cents is None else c.cost_cents / 100, "sms_keyword": c.sms_keyword,
            "email_tag": c.email_tag, "number": c.number}


def cost_per_contact(cost_cents: Optional[int], contacts: int, threshold: int) -> Optional[float]:
    """Euros per contact, only when the contacts are a count the public page would show as it is."""
    if cost_cents is None or contacts < max(1, threshold):
        return None
    return round(cost_cents / 100 / contacts, 2)


def results(session: Session, threshold: int = 1) -> list[dict[str, Any]]:
    """Each campaign with what it brought so far: contacts (from the first message), cases, outcomes, cost per
    contact. Exact counts: this is for leads and admins, not the public page (which uses the rollups)."""
    from sqlalchemy import func

    from router.storage.models import Call, Case, Conversation

    contacts: dict[str, int] = {code: n for code, n in session.execute(
        select(Conversation.campaign, func.count()).where(Conversation.campaign.is_not(None),
                                                          Conversation.channel != "voice")
        .group_by(Conversation.campaign)) if code}
    for code, n in session.execute(select(Call.campaign, func.count()).where(Call.campaign.is_not(None))
                                   .group_by(Call.campaign)):
        if code:
            contacts[code] = contacts.get(code, 0) + n
    cases: dict[str, int] = {code: n for code, n in session.execute(
        select(Case.campaign, func.count()).where(Case.campaign.is_not(None)).group_by(Case.campaign)) if code}
    outcomes: dict[str, dict[str, int]] = {}
    for code, outcome, n in session.execute(select(Case.campaign, Case.outcome, func.count()).where(
            Case.campaign.is_not(None), Case.outcome.is_not(None)).group_by(Case.campaign, Case.outcome)):
        outcomes.setdefault(code, {})[outcome] = n
    out = []
    for c in session.scalars(select(Campaign).order_by(Campaign.starts.desc(), Campaign.code)):
        n = contacts.get(c.code, 0)
        out.append({**as_dict(c), "contacts": n, "cases": cases.get(c.code, 0), "outcomes": outcomes.get(c.code, {}),
                    "cost_per_contact": cost_per_contact(c.cost_cents, n, threshold)})
    return out
