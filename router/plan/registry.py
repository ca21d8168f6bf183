"""Companies by business ID from the Finnish trade register's open data (YTJ, PRH's opendata-ytj-api v3).

`GET {COMPANY_REGISTRY_URL}/companies?businessId=NNNNNNN-N` needs no authentication. What it says of a company is
kept per ID (`company_records`) and asked again after COMPANY_REGISTRY_DAYS; a registry that does not answer, or
an ID it does not know, is said plainly and never stops what staff were saving.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.config import Settings
from router.storage.models import Case, CompanyRecord

FOUND, UNKNOWN, UNREACHABLE = "found", "unknown", "unreachable"
TIMEOUT = 4.0
CURRENT = "1"  # YTJ: a name or an address of type 1 is the current one; language code 1 is Finnish


@dataclass(frozen=True)
class Company:
    business_id: str
    name: str
    form: str = ""
    line_of_business: str = ""
    address: str = ""
    registered_on: Optional[str] = None


@dataclass(frozen=True)
class Lookup:
    status: str  # found, unknown, unreachable
    company: Optional[Company] = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, **({"company": asdict(self.company)} if self.company else {})}


class RegistryUnavailable(Exception):
    """The registry did not answer, or not in its documented shape."""


def _described(item: Optional[dict], language: str = "1") -> str:
    """An item's description in a language (Finnish by default, else its first)."""
    descriptions = (item or {}).get("descriptions") or []
    chosen = next((d for d in descriptions if str(d.get("languageCode")) == language), None) or \
        (descriptions[0] if descriptions else {})
    return str(chosen.get("description") or "")


def _current(items: list[dict]) -> Optional[dict]:
    """The item still in force (no end date), of the current type when there are several."""
    live = [i for i in items if not i.get("endDate")]
    return next((i for i in live if str(i.get("type")) == CURRENT), live[0] if live else None)


def parse(document: Any, business_id: str) -> Optional[Company]:
    """The company in a registry answer (`{"companies": [...], "totalResults": n}`), or None when it has none."""
    if not isinstance(document, dict) or not isinstance(document.get("companies"), list):
        raise RegistryUnavailable("not the registry's answer")
    for item in document["companies"]:
        if ((item.get("businessId") or {}).get("value")) != business_id:
            continue
        name = _current(item.get("names") or [])
        form = _current(item.get("companyForms") or [])
        address = _current(item.get("addresses") or [])
        place = ""
        if address:
            offices = address.get("postOffices") or []
            city = next((o.get("city") for o in offices if str(o.get("languageCode")) == "1"),
                        offices[0].get("city") if offices else "")
            street = " ".join(str(x) for x in (address.get("street"), address.get("buildingNumber")) if x)
            place = ", ".join(p for p in (street, " ".join(x for x in (address.get("postCode"), city) if x)) if p)
        return Company(business_id=business_id, name=str((name or {}).get("name") or ""),
                       form=_described(form), line_of_business=_described(item.get("mainBusinessLine")),
                       address=place, registered_on=(item.get("businessId") or {}).get("registrationDate")
                       or item.get("registrationDate"))
    return None


def fetch(settings: Settings, business_id: str) -> Any:
    """The registry's answer for one ID (its JSON), or RegistryUnavailable."""
    import requests

    try:
        response = requests.get(f"{settings.company_registry_url.rstrip('/')}/companies",
                                params={"businessId": business_id}, timeout=TIMEOUT,
                                headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise RegistryUnavailable(type(exc).__name__) from exc
    if response.status_code == 404:
        return {"companies": [], "totalResults": 0}
    if response.status_code != 200:
        raise RegistryUnavailable(f"registry answered {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise RegistryUnavailable("not JSON") from exc


def find(session: Session, settings: Settings, business_id: str, now: datetime,
         get: Callable[[Settings, str], Any] = fetch) -> Lookup:
    """What the register says of a (checked) business ID: from the cache while fresh, else asked and kept."""
    kept = session.get(CompanyRecord, business_id)
    if kept is not None and now - kept.fetched_at < timedelta(days=settings.company_registry_days):
        return Lookup(FOUND, Company(**kept.data)) if kept.data else Lookup(UNKNOWN)
    try:
        company = parse(get(settings, business_id), business_id)
    except RegistryUnavailable:
        # Asked too early to refresh: the old answer is better than none.
        return Lookup(FOUND, Company(**kept.data)) if kept is not None and kept.data else Lookup(UNREACHABLE)
    data = asdict(company) if company else None
    if kept is None:
        session.add(CompanyRecord(business_id=business_id, data=data, fetched_at=now))
    else:
        kept.data, kept.fetched_at = data, now
    return Lookup(FOUND, company) if company else Lookup(UNKNOWN)


def cached(session: Session, business_id: Optional[str]) -> Optional[Lookup]:
    """What the register said of an ID when it was last asked (never asks: for pages), None if never asked."""
    kept = session.get(CompanyRecord, business_id) if business_id else None
    if kept is None:
        return None
    return Lookup(FOUND, Company(**kept.data)) if kept.data else Lookup(UNKNOWN)


def fill_cases(session: Session, settings: Settings, now: datetime, limit: int = 20,
               get: Callable[[Settings, str], Any] = fetch) -> int:
    """Look up the business IDs customers gave for their cases (the worker's job, so no customer waits for the
    register): a case whose company was only the ID gets the company's name. IDs looked up."""
    ids = list(session.scalars(
        select(Case.business_id).distinct().where(Case.business_id.is_not(None),
                                                  Case.created_at >= now - timedelta(days=2),
                                                  Case.business_id.not_in(select(CompanyRecord.business_id)))
        .limit(limit)))
    for business_id in ids:
        assert business_id is not None
        looked = find(session, settings, business_id, now, get)
        if looked.company is None:
            continue
        for case in session.scalars(select(Case).where(Case.business_id == business_id)):
            if (case.company or "").strip() in ("", business_id):
                case.company = looked.company.name
    return len(ids)
