"""Development pages: what the dry run would have sent. Off in production (DEV_PAGES=false)."""
from flask import Blueprint, abort, render_template
from sqlalchemy import select

from ..models import OutboxMessage
from . import db, settings

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def _only_in_development():
    # Real customers' messages never show here: the page exists only while nothing is really sent.
    s = settings()
    if not (s.dev_pages and s.smtp_dry_run and s.twilio_dry_run):
        abort(404)


@bp.get("/outbox")
def outbox():
    rows = db().scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)).all()
    return render_template("dev_outbox.html", rows=rows, dry_run=settings().smtp_dry_run)
