"""Staff pages for data protection: a person's data (find, export, erase) for admins, the audit trail for admins
and team leads."""
from __future__ import annotations

import csv
import io
import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from router import sanitize
from router.inbound import tracker_store
from router.privacy import person as privacy
from router.staff import access, audit
from router.storage.models import Case
from router.web import clock, db, field, settings
from router.web.admin import audit_changes
from router.web.auth import role_required

bp = Blueprint("privacy_admin", __name__, url_prefix="/staff/admin")
bp.after_request(audit_changes)


def _subject():
    try:
        return privacy.Subject.of(field("phone", limit=60), field("email", limit=254))
    except privacy.NoSubject:
        return None


@bp.route("/privacy", methods=["GET", "POST"])
@role_required("admin")
def person():
    """Find what is held about one person (by number or email); then export it or, after confirming, erase it.

    Posted, never in the address bar: the number or email would otherwise end up in browser history and logs.
    """
    if request.method == "GET":
        return render_template("staff/privacy.html", subject=None, held=None)
    subject = _subject()
    if subject is None:
        flash(_("staff.privacy_give_contact"), "error")
        return redirect(url_for("privacy_admin.person"))
    return render_template("staff/privacy.html", subject=subject, held=privacy.find(db(), subject))


@bp.post("/privacy/export")
@role_required("admin")
def export():
    """Everything held about the person, as a JSON download (the export is in the audit trail)."""
    subject = _subject()
    if subject is None:
        abort(400)
    data = privacy.export(db(), subject, clock(), user=current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=privacy-export-{clock():%Y%m%d-%H%M%S}.json",
        "Cache-Control": "no-store"})


@bp.post("/privacy/erase")
@role_required("admin")
def erase():
    """Erase the person's data, only when the admin ticked the confirmation."""
    subject = _subject()
    if subject is None:
        abort(400)
    if field("confirm") != "yes":
        flash(_("staff.privacy_confirm_first"), "error")
        return render_template("staff/privacy.html", subject=subject, held=privacy.find(db(), subject)), 400
    try:
        done = privacy.erase(db(), settings(), subject, clock(), user=current_user)
    except tracker_store.Unreachable:
        db().rollback()  # nothing erased: the bot's copy would be left behind
        flash(_("staff.tracker_unreachable"), "error")
        return render_template("staff/privacy.html", subject=subject, held=privacy.find(db(), subject)), 503
    flash(_("staff.privacy_erased").format(cases=done["cases"], messages=done["messages"]))
    return redirect(url_for("privacy_admin.person"))


@bp.get("/audit")
@role_required("lead", "admin")
def audit_page():
    """The audit trail, newest first: everything for admins, their team's cases' for leads; one case's; CSV too."""
    ref = request.args.get("case", "").strip()[:20]
    if ref:
        case = db().scalar(select(Case).where(Case.ref == ref))
        today = access.local_today(clock(), settings().timezone)
        if case is None or not access.permits(db(), current_user, access.AUDIT, case, today):
            abort(404)
    events = audit.trail(db(), current_user, ref or None, 500, clock())
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["at", "actor", "action", "case", "detail"])
        for e in events:
            writer.writerow([sanitize.csv_cell(c) for c in (
                e.created_at.isoformat() + "Z", e.actor, e.action, e.case_ref or "",
                json.dumps(e.detail, ensure_ascii=False) if e.detail else "")])
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=audit.csv", "Cache-Control": "no-store"})
    return render_template("staff/audit.html", events=events, ref=ref)
