"""Admin: the directory in the browser (the same rules as loading YAML)."""
from __future__ import annotations

import yaml
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select

from router import sanitize, schemas
from router.casework import directory
from router.casework.routing import DAY_KEYS
from router.delivery import alerts, events
from router.inbound import faq
from router.privacy import notices
from router.staff import audit
from router.storage.models import CannedReply, Case, Partner, Specialist, WebhookEndpoint
from router.web import clock, db, field, settings
from router.web.auth import role_required

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")


def audit_changes(response):
    """Every change an admin or lead makes in the browser goes into the audit trail: which page, which row.

    Registered on each admin blueprint (here and web/impact_admin.py), so a new admin page is audited too. The
    form's content is not kept (it may be a notice's text or a specialist's phone number), only what was acted on.
    """
    if request.method == "POST" and current_user.is_authenticated and response.status_code < 400:
        audit.record(db(), request.endpoint or "admin", user=current_user, now=clock(),
                     detail={k: str(v) for k, v in (request.view_args or {}).items()} or None)
    return response


bp.after_request(audit_changes)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]


@bp.get("/directory", endpoint="directory")
@role_required("admin")
def directory_page():
    people = db().scalars(select(Specialist).order_by(Specialist.active.desc(), Specialist.name)).all()
    topics = directory.topic_labels(db())
    partners = db().scalars(select(Partner).order_by(Partner.active.desc(), Partner.name)).all()
    return render_template("staff/directory.html", people=people, topics=topics, partners=partners,
                           names={tp.key: tp.labels for tp in topics})



# Each field of the specialist's form: its label and what a refusal says (schemas.Specialist checks the values).
FORM_WORDS = {"name": ("staff.name", "form.required"), "title": ("staff.titles", "form.required"),
              "email": ("staff.email", "form.email"), "phone": ("staff.phone", "form.sms_needs_phone"),
              "notify": ("staff.phone", "form.sms_needs_phone"), "topics": ("staff.topics", "form.topics"),
              "languages": ("staff.languages", "form.topics"), "working_hours": ("staff.hours", "form.hours"),
              "hours": ("staff.hours", "form.hours"), "absences": ("staff.absences", "form.absences"),
              "deputy": ("staff.deputy", "form.choose")}


def _checked(person: Specialist, topics: set[str], keys: set[str]):
    """The form's specialist checked by the directory's own schema; the refusals in the page's words otherwise."""
    hours = {day: [part.strip() for part in value.split("-", 1)] if "-" in value else [value]
             for day in DAY_KEYS if (value := field(f"hours_{day}", "").strip())}
    absences = [[part.strip() for part in line.split("..", 1)] if ".." in line else [line.strip()]
                for line in field("absences", "").splitlines() if line.strip()]
    raw = {"key": person.key, "name": field("name", person.name).strip() or person.name,
           "title": {lang: field(f"title_{lang}", "").strip() or person.title(lang) for lang in ("fi", "sv", "en")},
           "email": field("email", person.email).strip() or person.email, "phone": field("phone", "").strip() or None,
           "topics": _split(field("topics", "")), "languages": _split(field("languages", "")),
           "working_hours": hours, "absences": absences, "deputy": field("deputy") or None,
           "active": field("active") == "1", "team": person.team, "notify": person.notify_by}
    try:
        entry = schemas.Specialist.model_validate(raw)
        wrong = [name for name, _what in entry.in_directory(topics, keys)]
    except ValidationError as exc:
        entry, wrong = None, [name for name, _what in schemas.specialist_errors(exc)]
    if entry is not None and not wrong:
        return entry
    said = []
    for name in dict.fromkeys(wrong):  # each field once, in the form's order of errors
        label_id, sentence = FORM_WORDS.get(name, ("staff.name", "form.required"))
        options = ", ".join(sorted(topics)) if name == "topics" else "fi, sv, en"
        said.append(_(sentence).format(field=_(label_id), options=options))
    return said


@bp.route("/specialists/<key>", methods=["GET", "POST"])
@role_required("admin")
def edit_specialist(key: str):
    session = db()
    person = session.scalar(select(Specialist).where(Specialist.key == key))
    if person is None:
        abort(404)
    topics = {tp.key for tp in directory.topic_labels(session)}
    keys = set(session.scalars(select(Specialist.key)))
    if request.method == "POST":
        problems = _checked(person, topics, keys)
        if isinstance(problems, list):
            for error in problems:
                flash(error, "error")
            return render_template("staff/specialist.html", person=person, keys=sorted(keys), days=DAY_KEYS), 400
        for name, value in problems.row().items():
            if name not in ("key", "team", "notify_by"):
                setattr(person, name, value)
        active = session.scalars(select(Specialist).where(Specialist.active.is_(True)))
        if not any("general" in s.topics for s in active):
            session.rollback()
            flash(_("form.general"), "error")
            return redirect(url_for("admin.edit_specialist", key=key))
        flash(_("staff.done"))
        return redirect(url_for("admin.directory"))
    return render_template("staff/specialist.html", person=person, keys=sorted(keys), days=DAY_KEYS)


@bp.post("/directory/import")
@role_required("admin")
def import_yaml():
    session = db()
    upload = request.files.get("file")
    try:
        text = sanitize.clean(upload.read(2_000_000).decode("utf-8") if upload else request.form.get("yaml", ""),
                              2_000_000)
        directory.load_text(session, text)
        flash(_("staff.done"))
    except (directory.DirectoryError, ValueError, yaml.YAMLError) as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("admin.directory"))


@bp.route("/canned", methods=["GET", "POST"])
@role_required("admin")
def canned():
    """Canned replies specialists can start a message from, per language."""
    session = db()
    if request.method == "POST":
        title, text, language = field("title", limit=120).strip(), field("text", limit=4000).strip(), field("language")
        if not title or not text or language not in ("fi", "sv", "en"):
            flash(f"{_('staff.title')}, {_('staff.text')}, {_('staff.language')}: fi, sv, en", "error")
        else:
            session.add(CannedReply(title=title, text=text, language=language))
            flash(_("staff.done"))
        return redirect(url_for("admin.canned"))
    rows = session.scalars(select(CannedReply).order_by(CannedReply.language, CannedReply.title)).all()
    return render_template("staff/canned.html", rows=rows)


@bp.route("/webhooks", methods=["GET", "POST"])
@role_required("admin")
def webhooks_page():
    """Receivers of the service's events (the city's CRM or case system): add, see, turn off."""
    session = db()
    if request.method == "POST":
        try:
            made = events.register(session, settings(), url=field("url", limit=2000).strip(),
                                   secret=field("secret", limit=200).strip() or None,
                                   events=[e for e in request.form.getlist("events") if e in events.TYPES],
                                   with_words=request.form.get("with_words") == "1", now=clock(),
                                   by=current_user.email)
        except events.EndpointError as exc:
            session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("admin.webhooks_page"))
        audit.record(session, "webhook_add", user=current_user, now=clock(), detail={"id": made.id})
        flash(f"{_('staff.webhook_secret')}: {made.secret}")  # shown this once
        return redirect(url_for("admin.webhooks_page"))
    rows = session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render_template("staff/webhooks.html", rows=rows, types=events.TYPES)


@bp.post("/webhooks/<int:endpoint_id>/off")
@role_required("admin")
def webhook_off(endpoint_id: int):
    endpoint = db().get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    endpoint.active = False
    audit.record(db(), "webhook_off", user=current_user, now=clock(), detail={"id": endpoint.id})
    flash(_("staff.done"))
    return redirect(url_for("admin.webhooks_page"))


@bp.post("/canned/<int:reply_id>/delete")
@role_required("admin")
def delete_canned(reply_id: int):
    session = db()
    row = session.get(CannedReply, reply_id)
    if row is not None:
        session.delete(row)
        flash(_("staff.done"))
    return redirect(url_for("admin.canned"))


@bp.route("/faq", methods=["GET", "POST"])
@role_required("admin")
def faq_page():
    """The assistant's answers about the agency itself, per language; an empty text restores the default."""
    session = db()
    if request.method == "POST":
        try:
            faq.reword(session, field("key"), field("language"), field("text", limit=2000))
        except KeyError:
            abort(400)
        flash(_("staff.done"))
        return redirect(url_for("admin.faq_page"))
    return render_template("staff/faq.html", rows=faq.answers(session, settings()))


@bp.route("/notices", methods=["GET", "POST"])
@role_required("admin")
def notices_page():
    """The privacy notice and the accessibility statement, per language; an empty text restores the default."""
    session = db()
    if request.method == "POST":
        try:
            faq.reword(session, field("key"), field("language"), field("text", limit=8000), keys=notices.KEYS)
        except KeyError:
            abort(400)
        flash(_("staff.done"))
        return redirect(url_for("admin.notices_page"))
    return render_template("staff/faq.html", heading="notices", prefix="notice_", lines=14, limit=8000,
                           rows=faq.answers(session, settings(), notices.KEYS, notices.default))


@bp.get("/deliveries", endpoint="deliveries")
@role_required("admin")
def deliveries():
    """Messages that did not reach their recipient: dead in the outbox, or failed/undelivered at Twilio."""
    rows = alerts.failures(db())
    refs = {c.id: c.ref for c in db().scalars(select(Case).where(Case.id.in_({r.case_id for r in rows if r.case_id})))}
    webhooks = {str(e.id): e.url for e in db().scalars(select(WebhookEndpoint))}  # a dead event names its receiver
    return render_template("staff/deliveries.html", rows=rows, refs=refs, webhooks=webhooks)


@bp.post("/deliveries/<int:row_id>/retry")
@role_required("admin")
def retry_delivery(row_id: int):
    session = db()
    if not alerts.retry(session, row_id, clock()):
        abort(404)
    flash(_("staff.done"))
    return redirect(url_for("admin.deliveries"))
