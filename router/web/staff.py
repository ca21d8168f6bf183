"""Staff pages: my cases, the case page and its actions. Server-rendered, usable on a phone."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import case as sql_case, select

from .. import casework, directory, promise
from ..models import Attachment, Case, CaseEvent, Conversation, Message, Specialist, Survey
from . import clock, db, settings
from .i18n import t

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _visible_case(ref: str) -> Case:
    case = db().scalar(select(Case).where(Case.ref == ref))
    if case is None:
        abort(404)
    mine = casework.visible_to(current_user)
    if mine is not None and case.specialist_id != mine and case.first_specialist_id != mine:
        abort(403)
    return case


@bp.get("/")
@login_required
def my_cases():
    now = clock()
    show_all = request.args.get("all") == "1" and casework.visible_to(current_user) is None
    query = select(Case).where(Case.status.in_(casework.OPEN))
    if not show_all and current_user.specialist_id:
        query = query.where(Case.specialist_id == current_user.specialist_id)
    elif not show_all and casework.visible_to(current_user) is not None:
        query = query.where(Case.id == -1)  # a specialist account not linked to the directory sees nothing
    # Overdue first, then by due time.
    overdue_first = sql_case((Case.due_at < now, 0), else_=1)
    cases = db().scalars(query.order_by(overdue_first, Case.due_at).limit(500)).all()
    labels = {tp.key: tp.labels for tp in directory.topic_labels(db())}
    return render_template("staff/cases.html", cases=cases, now=now, labels=labels, show_all=show_all,
                           can_see_all=casework.visible_to(current_user) is None, tz=settings().timezone)


@bp.get("/cases/<ref>")
@login_required
def case_page(ref: str):
    case = _visible_case(ref)
    session = db()
    # The whole transcript across channels: this case's conversation and every other one from the same
    # customer (their email address or phone number), in time order.
    addresses = [a for a in (case.customer_email, case.customer_phone) if a]
    conversation_ids = set(session.scalars(select(Conversation.id).where(Conversation.address.in_(addresses)))) \
        if addresses else set()
    if case.conversation_id:
        conversation_ids.add(case.conversation_id)
    messages = session.scalars(select(Message).where(Message.conversation_id.in_(conversation_ids))
                               .order_by(Message.created_at, Message.id).limit(1000)).all()
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    people = session.scalars(select(Specialist).where(Specialist.active.is_(True)).order_by(Specialist.name)).all()
    labels = {tp.key: tp.labels for tp in directory.topic_labels(session)}
    attachments = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
    feedback = session.scalar(select(Survey).where(Survey.case_id == case.id))
    due_day = promise.format_day(promise.local_date(case.due_at, settings().timezone), "fi")
    return render_template("staff/case.html", case=case, messages=messages, events=events, people=people,
                           labels=labels, outcomes=casework.OUTCOMES, now=clock(), due_day=due_day,
                           attachments=attachments, feedback=feedback)


def _act(ref: str, action):
    case = _visible_case(ref)
    session = db()
    try:
        action(session, case)
        session.commit()
        flash(t("done"))
    except casework.CaseworkError as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("staff.case_page", ref=ref))


@bp.post("/cases/<ref>/take-up")
@login_required
def take_up(ref: str):
    return _act(ref, lambda s, c: casework.take_up(s, settings(), c, current_user, clock()))


@bp.post("/cases/<ref>/note")
@login_required
def note(ref: str):
    return _act(ref, lambda s, c: casework.note(s, c, current_user, request.form.get("text", ""), clock()))


@bp.post("/cases/<ref>/message")
@login_required
def message(ref: str):
    return _act(ref, lambda s, c: casework.message_customer(s, settings(), c, current_user,
                                                            request.form.get("text", ""), clock()))


@bp.post("/cases/<ref>/reassign")
@login_required
def reassign(ref: str):
    return _act(ref, lambda s, c: casework.reassign(s, settings(), c, current_user, clock(),
                                                    specialist_key=request.form.get("specialist") or None,
                                                    topic=request.form.get("topic") or None))


@bp.post("/cases/<ref>/resolve")
@login_required
def resolve(ref: str):
    return _act(ref, lambda s, c: casework.resolve(s, settings(), c, current_user, clock(),
                                                   outcome=request.form.get("outcome") or None,
                                                   spam=request.form.get("spam") == "1"))
