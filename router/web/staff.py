"""Staff pages: my cases, the case page and its actions. Server-rendered, usable on a phone."""
from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select

from router import sanitize
from router.casework import actions as casework
from router.casework import customer, directory, files, inbox, promise, referral
from router.delivery import push
from router.plan import registry
from router.staff import access, audit
from router.storage.models import Attachment, CannedReply, Case, CaseEvent, Message, Specialist, Survey
from router.web import clock, db, settings

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _case_for(ref: str, action: str) -> Case:
    """The case if the signed-in user may `action` it: 404 when it does not exist, 403 when it is not theirs."""
    case = db().scalar(select(Case).where(Case.ref == ref))
    if case is None:
        abort(404)
    if not access.permits(db(), current_user, action, case, access.local_today(clock(), settings().timezone)):
        abort(403)
    return case


LISTS = {"open": ("open",), "waiting": ("taken_up",), "resolved": ("resolved",)}


@bp.get("/")
@login_required
def my_cases():
    """My cases (or, for leads and admins, all they may see), by state: open, in progress, resolved."""
    now = clock()
    session = db()
    today = access.local_today(now, settings().timezone)
    show_all = request.args.get("all") == "1" and access.sees_everyone(current_user)
    which = request.args.get("list", "active")
    statuses = LISTS.get(which, casework.OPEN)
    query = select(Case).where(Case.status.in_(statuses), access.case_filter(session, current_user, today))
    if not show_all and current_user.specialist_id:
        mine = [current_user.specialist_id, *access.covered_by(session, current_user, today)]
        query = query.where(Case.specialist_id.in_(mine) | (Case.first_specialist_id == current_user.specialist_id))
    if which == "resolved":
        query = query.order_by(Case.resolved_at.desc())
    else:  # overdue first, then by due time
        query = query.order_by(sql_case((Case.due_at < now, 0), else_=1), Case.due_at)
    cases = session.scalars(query.limit(500)).all()
    audit.record(session, "case_list", user=current_user, now=now, detail={"list": which, "count": len(cases)})
    labels = {tp.key: tp.labels for tp in directory.topic_labels(session)}
    return render_template("staff/cases.html", cases=cases, now=now, labels=labels, show_all=show_all,
                           which=which, can_see_all=access.sees_everyone(current_user),
                           unread=inbox.unread(session, cases), push_key=push.public_key(settings()))


@bp.get("/search")
@login_required
def search():
    """Cases by reference, name, phone, email, company or anything said in them; only cases the user may see."""
    q = sanitize.one_line(request.args.get("q", ""), 100).strip()
    session = db()
    cases = []
    if len(q) >= 2:
        like = f"%{q.lower()}%"
        digits = "".join(ch for ch in q if ch.isascii() and ch.isdigit())
        said = select(Message.conversation_id).where(func.lower(Message.text).like(like))
        matches = [func.lower(Case.ref).like(like), func.lower(Case.customer_name).like(like),
                   func.lower(Case.customer_email).like(like), func.lower(Case.company).like(like),
                   func.lower(Case.summary).like(like), Case.conversation_id.in_(said)]
        if len(digits) >= 4:  # "040 123 4567" finds "+358401234567"
            matches.append(Case.customer_phone.like(f"%{digits.lstrip('0')}%"))
        today = access.local_today(clock(), settings().timezone)
        cases = session.scalars(select(Case).where(or_(*matches), access.case_filter(session, current_user, today))
                                .order_by(Case.created_at.desc()).limit(100)).all()
        # What was searched for is not kept (it may be a name or a number): only that a search showed cases.
        audit.record(session, "case_search", user=current_user, now=clock(), detail={"count": len(cases)})
    labels = {tp.key: tp.labels for tp in directory.topic_labels(session)}
    return render_template("staff/cases.html", cases=cases, now=clock(), labels=labels, show_all=True, which="search",
                           q=q, can_see_all=access.sees_everyone(current_user), unread=inbox.unread(session, cases))


@bp.get("/cases/<ref>/attachments/<int:attachment_id>")
@login_required
def attachment(ref: str, attachment_id: int):
    """A file of the case, always as a download (never rendered in the browser: it came from outside)."""
    case = _case_for(ref, access.READ)
    found = db().scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id))
    if found is None or found.data is None:
        abort(404)
    audit.record(db(), "attachment_download", user=current_user, case_ref=case.ref, now=clock(),
                 detail={"attachment": found.id})
    return send_file(io.BytesIO(found.data), mimetype="application/octet-stream", as_attachment=True,
                     download_name=found.filename or "attachment", max_age=0)


@bp.get("/cases/<ref>")
@login_required
def case_page(ref: str):
    case = _case_for(ref, access.READ)
    session = db()
    # The customer across channels: every conversation of their record (verified addresses, staff's merges).
    known = customer.history(session, case)
    conversation_ids = known.conversation_ids
    # The newest 1,000 lines, oldest first: a customer of many years still sees today's messages.
    messages = list(reversed(session.scalars(
        select(Message).where(Message.conversation_id.in_(conversation_ids))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(1000)).all())) if conversation_ids else []
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    people = session.scalars(select(Specialist).where(Specialist.active.is_(True)).order_by(Specialist.name)).all()
    labels = {tp.key: tp.labels for tp in directory.topic_labels(session)}
    attachments = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
    feedback = session.scalar(select(Survey).where(Survey.case_id == case.id))
    due_day = promise.format_day(promise.local_date(case.due_at, settings().timezone), "fi")
    today = access.local_today(clock(), settings().timezone)
    can_act = access.permits(session, current_user, access.WRITE, case, today)
    canned = session.scalars(select(CannedReply).where(CannedReply.language == case.language)
                             .order_by(CannedReply.title)).all()
    chosen = next((c for c in canned if str(c.id) == request.args.get("canned")), None)
    draft = casework.fill_canned(chosen.text, case, current_user) if chosen else ""
    referrals = referral.of_case(session, case)
    partners = referral.partners(session, case.topic, case.language)
    audit.record(session, "case_read", user=current_user, case_ref=case.ref, now=clock())
    inbox.mark_seen(session, case, current_user, events[-1].id if events else None)
    return render_template("staff/case.html", case=case, messages=messages, events=events, people=people,
                           labels=labels, outcomes=casework.OUTCOMES, now=clock(), due_day=due_day,
                           attachments=attachments, feedback=feedback, can_act=can_act, canned=canned, draft=draft,
                           referrals=referrals, partners=partners, waiting=referral.pending(session, case),
                           company_record=registry.cached(session, case.business_id),
                           known=known, readable={c.id for c in known.cases
                                                  if access.permits(session, current_user, access.READ, c, today)},
                           after_message=max((m.id for m in messages), default=0),
                           after_event=events[-1].id if events else 0)


def _after(name: str) -> int:
    raw = request.args.get(name, "0")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else 0


@bp.get("/cases/<ref>/updates")
@login_required
def updates(ref: str):
    """What the open case page does not show yet (it asks every LIVE_SECONDS): new transcript lines and events,
    as the page's own markup."""
    case = _case_for(ref, access.READ)
    session = db()
    new_messages, new_events = inbox.updates(session, case, customer.conversation_ids(session, case),
                                             _after("after_message"), _after("after_event"))
    return jsonify(
        messages=[render_template("staff/_message.html", m=m, case=case) for m in new_messages],
        events=[render_template("staff/_event.html", e=e) for e in new_events],
        after_message=new_messages[-1].id if new_messages else _after("after_message"),
        after_event=new_events[-1].id if new_events else _after("after_event"),
        status=case.status, customer=sum(e.kind == inbox.CUSTOMER for e in new_events))


@bp.post("/cases/<ref>/seen")
@login_required
def seen(ref: str):
    """The open page showed the case up to an event: its customer messages are no longer unread."""
    case = _case_for(ref, access.READ)
    raw = str((request.get_json(silent=True) or {}).get("event", ""))
    if not (raw.isascii() and raw.isdigit() and len(raw) < 18):
        return jsonify(error="event is the id of the newest event the page shows"), 400
    inbox.mark_seen(db(), case, current_user, int(raw))
    return jsonify(unread=inbox.unread(db(), [case])[case.id])


@bp.post("/push")
@login_required
def push_subscribe():
    """Keep this browser's push subscription (PushSubscription.toJSON()) for the signed-in user."""
    body = request.get_json(silent=True) or {}
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    endpoint, p256dh, auth = body.get("endpoint"), keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(v, str) and 0 < len(v) <= 2000 for v in (endpoint, p256dh, auth)):
        return jsonify(error="send the browser's subscription: endpoint and keys.p256dh, keys.auth"), 400
    if not push.public_key(settings()):
        return jsonify(error="push is not configured (VAPID_PRIVATE_KEY)"), 409
    try:
        push.subscribe(db(), settings(), current_user, endpoint, p256dh, auth, clock())
    except push.SubscriptionError as exc:
        return jsonify(error=str(exc)), 400
    audit.record(db(), "push_subscribe", user=current_user, now=clock())
    return jsonify(subscribed=True), 201


@bp.delete("/push")
@login_required
def push_unsubscribe():
    endpoint = (request.get_json(silent=True) or {}).get("endpoint")
    if isinstance(endpoint, str):
        push.unsubscribe(db(), current_user, endpoint[:2000])
    return "", 204


@bp.get("/sw.js")
def service_worker():
    """The service worker that shows staff push notifications; served here so that its scope is /staff/."""
    response = send_from_directory(current_app.static_folder or "static", "sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Service-Worker-Allowed"] = "/staff/"
    return response


def _act(ref: str, action):
    case = _case_for(ref, access.WRITE)
    session = db()
    try:
        action(session, case)
        flash(_("staff.done"))
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
    text = sanitize.clean(request.form.get("text", ""), 5000)
    return _act(ref, lambda s, c: casework.note(s, c, current_user, text, clock()))


@bp.post("/cases/<ref>/message")
@login_required
def message(ref: str):
    text = sanitize.clean(request.form.get("text", ""), 5000)
    uploads = uploaded_files()
    return _act(ref, lambda s, c: casework.message_customer(s, settings(), c, current_user, text, clock(), uploads))


def uploaded_files() -> list[files.Upload]:
    """The request's `file` parts (an empty file input sends one without a name: not a file)."""
    return [files.Upload(f.filename or "", f.read(settings().attachment_max_bytes + 1))
            for f in request.files.getlist("file") if f.filename]


@bp.post("/cases/<ref>/reassign")
@login_required
def reassign(ref: str):
    specialist = sanitize.optional(request.form.get("specialist"), 60)
    topic = sanitize.optional(request.form.get("topic"), 40)
    return _act(ref, lambda s, c: casework.reassign(s, settings(), c, current_user, clock(),
                                                    specialist_key=specialist, topic=topic))


@bp.post("/cases/<ref>/refer")
@login_required
def refer(ref: str):
    """Refer to a partner: ask the customer (a link), or record that they already agreed and how."""
    partner = sanitize.optional(request.form.get("partner"), 60) or ""
    consent = sanitize.optional(request.form.get("consent"), 500) if request.form.get("agreed") == "1" else None

    def act(s, c):
        if request.form.get("agreed") == "1" and not consent:
            raise casework.CaseworkError(_("staff.consent_how"))
        referral.refer(s, settings(), c, current_user, partner, clock(), consent=consent)
        audit.record(s, "case_refer", user=current_user, case_ref=c.ref, now=clock(),
                     detail={"partner": partner, "consent": "recorded" if consent else "asked"})

    return _act(ref, act)


@bp.post("/cases/<ref>/customer/merge")
@login_required
def merge_customer(ref: str):
    """The customer of another case (by its reference) is this case's customer: one record, audited."""
    other_ref = sanitize.one_line(request.form.get("other", ""), 20).strip().upper()

    def act(s, c):
        other = s.scalar(select(Case).where(Case.ref == other_ref))
        today = access.local_today(clock(), settings().timezone)
        if other is None or not access.permits(s, current_user, access.READ, other, today):
            raise casework.CaseworkError(_("staff.no_such_case").format(ref=other_ref or "-"))
        made = customer.merge(s, c, other, current_user, clock())
        audit.record(s, "customer_merge", user=current_user, case_ref=c.ref, now=clock(),
                     detail={"merge": made.id, "other_case": other.ref})

    return _act(ref, act)


@bp.post("/cases/<ref>/customer/merges/<int:merge_id>/undo")
@login_required
def undo_merge(ref: str, merge_id: int):
    """Separate two records merged into this case's customer again."""
    def act(s, c):
        if merge_id not in {m.id for m in customer.history(s, c).merges}:
            raise casework.CaseworkError(_("staff.no_such_merge"))
        customer.undo(s, merge_id, current_user, clock())
        audit.record(s, "customer_unmerge", user=current_user, case_ref=c.ref, now=clock(),
                     detail={"merge": merge_id})

    return _act(ref, act)


@bp.post("/cases/<ref>/resolve")
@login_required
def resolve(ref: str):
    return _act(ref, lambda s, c: casework.resolve(s, settings(), c, current_user, clock(),
                                                   outcome=sanitize.optional(request.form.get("outcome"), 40),
                                                   spam=request.form.get("spam") == "1"))
