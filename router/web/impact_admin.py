"""Leads and admins enter the impact page's figures, publish stories and choose which comments to show."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from router import formats
from router.storage.models import ImpactFigure, Story, Survey
from router.web import db, field
from router.web.admin import audit_changes
from router.web.auth import role_required
from router.web.i18n import lang

bp = Blueprint("impact_admin", __name__, url_prefix="/staff/admin/impact")
bp.after_request(audit_changes)


def _int(value: str):
    """A whole number of euros or a year as people type it ("1 200 000", "1 200 000 €"); None otherwise."""
    number = formats.parse_number(value, lang())
    return int(number) if number is not None and number == int(number) and 0 <= number < 10**11 else None


@bp.get("")
@role_required("lead", "admin")
def page():
    session = db()
    return render_template("staff/impact_admin.html",
                           figures=session.scalars(select(ImpactFigure).order_by(ImpactFigure.year.desc())).all(),
                           stories=session.scalars(select(Story).order_by(Story.created_at.desc())).all(),
                           comments=session.scalars(select(Survey).where(Survey.comment.is_not(None))
                                                    .order_by(Survey.answered_at.desc()).limit(50)).all())


@bp.post("/figures")
@role_required("lead", "admin")
def save_figures():
    year = _int(field("year", ""))
    if not year or not 2000 <= year <= 2100:
        flash(_("staff.year_invalid"), "error")
        return redirect(url_for("impact_admin.page"))
    session = db()
    figure = session.get(ImpactFigure, year) or ImpactFigure(year=year)
    figure.budget_eur, figure.spend_eur = _int(field("budget_eur")), _int(field("spend_eur"))
    figure.note = field("note", "").strip()[:1000]
    figure.notes = {code: text for code in ("sv", "en") if (text := field(f"note_{code}", "").strip()[:1000])} or None
    session.add(figure)
    flash(_("staff.done"))
    return redirect(url_for("impact_admin.page"))


@bp.post("/stories")
@role_required("lead", "admin")
def add_story():
    title, body = field("title", "").strip(), field("body", "").strip()
    if not title or not body:
        flash(_("staff.title_and_text"), "error")
        return redirect(url_for("impact_admin.page"))
    session = db()
    language = field("language", "fi")[:5]
    # The same story in the other languages, where both its title and text were given.
    translations = {code: {"title": field(f"title_{code}").strip()[:200], "body": field(f"body_{code}").strip()[:4000]}
                    for code in ("fi", "sv", "en") if code != language
                    and field(f"title_{code}").strip() and field(f"body_{code}").strip()}
    session.add(Story(title=title[:200], body=body[:4000], language=language, translations=translations or None,
                      published=field("published") == "1"))
    flash(_("staff.done"))
    return redirect(url_for("impact_admin.page"))


def _toggle_published(model, row_id: int):
    session = db()
    row = session.get(model, row_id)
    if row:
        row.published = not row.published
    return redirect(url_for("impact_admin.page"))


@bp.post("/stories/<int:story_id>/toggle")
@role_required("lead", "admin")
def toggle_story(story_id: int):
    return _toggle_published(Story, story_id)


@bp.post("/comments/<int:survey_id>/toggle")
@role_required("lead", "admin")
def toggle_comment(survey_id: int):
    return _toggle_published(Survey, survey_id)
