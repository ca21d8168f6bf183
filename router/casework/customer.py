"""One customer across channels: a record per person, reached only through addresses the service verified.

A phone number is verified when Twilio signed it (an SMS, a call, a WhatsApp message); an email address when a mail
from it answered one the service sent (the case's own reply address). What a customer typed into a form is never
used to join anyone's history. Staff may merge two records they can both read (audited, undone by one click):
a merged record points at the one kept, so undoing it rewrites nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.casework.actions import CaseworkError
from router.storage.models import Case, Conversation, Customer, CustomerAddress, CustomerMerge, User

PHONE, EMAIL = "phone", "email"


class MergeError(CaseworkError):
    """The merge does not fit the records; the message says why."""


def root(session: Session, customer_id: Optional[int]) -> Optional[int]:
    """The record a (possibly merged) record stands for now."""
    seen: set[int] = set()
    while customer_id is not None and customer_id not in seen:
        seen.add(customer_id)
        parent = session.scalar(select(Customer.merged_into_id).where(Customer.id == customer_id))
        if parent is None:
            return customer_id
        customer_id = parent
    return customer_id


def members(session: Session, root_id: int) -> list[int]:
    """The record and every record merged into it, directly or through another."""
    found, frontier = [root_id], [root_id]
    while frontier:
        frontier = list(session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier))))
        found += [i for i in frontier if i not in found]
    return found


def _owner(session: Session, kind: str, address: str, how: str, now: datetime) -> int:
    """The record holding a verified address; a new one (with it) when nobody holds it yet."""
    held = session.scalar(select(CustomerAddress.customer_id).where(CustomerAddress.address == address))
    if held is not None:
        return root(session, held) or held
    made = Customer(created_at=now)
    session.add(made)
    session.flush()
    session.add(CustomerAddress(customer_id=made.id, kind=kind, address=address, verified_at=now, how=how))
    session.flush()
    return made.id


def phone_verified(session: Session, conv: Conversation, now: datetime) -> None:
    """A conversation whose number Twilio signed belongs to that number's record."""
    phone = conv.proven_phone
    if phone and conv.customer_id is None:
        conv.customer_id = _owner(session, PHONE, phone, "twilio", now)


def email_verified(session: Session, case: Case, address: str, now: datetime) -> None:
    """A mail from `address` answered the service's own mail about `case`: the address is the case's customer's.

    An address already verified for another record stays there (staff can merge the two on the case page).
    """
    address = address.strip().lower()
    held = session.scalar(select(CustomerAddress).where(CustomerAddress.address == address))
    current = root(session, case.customer_id)
    if held is None:
        if current is None:
            current = _owner(session, EMAIL, address, "email_reply", now)
        else:
            session.add(CustomerAddress(customer_id=current, kind=EMAIL, address=address, verified_at=now,
                                        how="email_reply"))
    elif current is None:
        current = root(session, held.customer_id)
    _attach(session, case, current)


def _attach(session: Session, case: Case, customer_id: Optional[int]) -> None:
    case.customer_id = customer_id
    conv = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if conv is not None and conv.customer_id is None:
        conv.customer_id = customer_id


def for_case(session: Session, case: Case, now: datetime) -> int:
    """The case's record, made now (with no address) for a case that has none, so it can be merged."""
    found = root(session, case.customer_id)
    if found is None:
        made = Customer(created_at=now)
        session.add(made)
        session.flush()
        found = made.id
        _attach(session, case, found)
    return found


@dataclass
class History:
    """What the case page shows of the customer: verified addresses, their other cases, every conversation."""

    customer_id: Optional[int]
    addresses: list[CustomerAddress] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)  # the others, newest first
    conversation_ids: set[int] = field(default_factory=set)
    merges: list[CustomerMerge] = field(default_factory=list)  # in force, into this record


def conversation_ids(session: Session, case: Case, ids: Optional[list[int]] = None) -> set[int]:
    """The case's conversation and every conversation of its customer's record (`ids`: the record's members)."""
    own = {case.conversation_id} if case.conversation_id else set()
    if ids is None:
        top = root(session, case.customer_id)
        ids = members(session, top) if top is not None else []
    if not ids:
        return own
    return own | set(session.scalars(select(Conversation.id).where(Conversation.customer_id.in_(ids))))


def history(session: Session, case: Case) -> History:
    """The customer behind the case across channels (only the case's own conversation when there is no record)."""
    top = root(session, case.customer_id)
    if top is None:
        return History(None, conversation_ids=conversation_ids(session, case, []))
    ids = members(session, top)
    return History(
        top,
        addresses=list(session.scalars(select(CustomerAddress).where(CustomerAddress.customer_id.in_(ids))
                                       .order_by(CustomerAddress.verified_at))),
        cases=list(session.scalars(select(Case).where(
            (Case.customer_id.in_(ids)) | Case.conversation_id.in_(
                select(Conversation.id).where(Conversation.customer_id.in_(ids))), Case.id != case.id)
            .order_by(Case.created_at.desc()).limit(100))),
        conversation_ids=conversation_ids(session, case, ids),
        merges=list(session.scalars(select(CustomerMerge).where(CustomerMerge.kept_id.in_(ids),
                                                                CustomerMerge.undone_at.is_(None))
                                    .order_by(CustomerMerge.id))))


def merge(session: Session, case: Case, other: Case, user: Optional[User], now: datetime) -> CustomerMerge:
    """The customer of `other` is the customer of `case`: one record from now on (the first is kept)."""
    if other.id == case.id:
        raise MergeError("a case is already its own customer's")
    kept, merged = for_case(session, case, now), for_case(session, other, now)
    if kept == merged:
        raise MergeError(f"the customers of {case.ref} and {other.ref} are already one")
    row = session.get_one(Customer, merged)
    row.merged_into_id = kept
    made = CustomerMerge(kept_id=kept, merged_id=merged, user_id=user.id if user else None, created_at=now)
    session.add(made)
    session.flush()
    return made


def undo(session: Session, merge_id: int, user: Optional[User], now: datetime) -> CustomerMerge:
    """Separate the two records again, as they were before the merge."""
    found = session.get(CustomerMerge, merge_id)
    if found is None or found.undone_at is not None:
        raise MergeError("no such merge in force")
    row = session.get_one(Customer, found.merged_id)
    if row.merged_into_id == found.kept_id:
        row.merged_into_id = None
    found.undone_at, found.undone_by_id = now, user.id if user else None
    return found


def records_of(session: Session, customer_ids: set[int]) -> set[int]:
    """Every record that is one person with any of these (their roots and all merged into them)."""
    out: set[int] = set()
    for customer_id in customer_ids:
        top = root(session, customer_id)
        if top is not None and top not in out:
            out |= set(members(session, top))
    return out
