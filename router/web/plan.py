"""Staff pages for the board's plan: activities, the sales pipeline, campaigns, targets and the board's report."""
from __future__ import annotations

from datetime import date
from typing import Optional

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from router import formats
from router.casework import directory
from router.casework.handoff import HandoffError, HandoffRequest, hand_off, split_contact
from router.impact import rollups
from router.plan import FieldError, activity, campaign, leads, registry, report, target
from router.staff import access, audit
from router.storage.models import Activity, Case, Lead
from router.web import clock, db, field, settings
from router.web.admin import audit_changes
from router.web.i18n import label, lang

bp = Blueprint("plan", __name__, url_prefix="/staff")
bp.after_request(audit_changes)


@bp.app_context_processor
def _words():
    """`plan_word`: the report's own words for kinds, stages and measures, in the staff UI's language."""
    def plan_word(key: str) -> str:
        return report.word("located_stage" if key == "located" else report.MEASURE_WORD.get(key, key), lang())
    return {"plan_word": plan_word}


def _number(typed: str, name: str) -> float:
    """A number as the user typed it ("4 500", "4,5", "0,9"); a FieldError the form shows otherwise."""
    number = formats.parse_number(typed, lang())
    if number is None:
        raise FieldError(f"{name} is not a number", name, "number")
    return float(number)


def _said(exc: ValueError) -> str:
    """What a refused form says, in the reader's language, naming the field by its label."""
    if not isinstance(exc, FieldError):
        return str(exc)
    values = {k: formats.number(v, lang()) if isinstance(v, (int, float)) else v for k, v in exc.values.items()}
    return _(f"form.{exc.key}").format(field=label(exc.field), **values)


def _today() -> date:
    return access.local_today(clock(), settings().timezone)


def _topics() -> dict[str, str]:
    return {x.key: x.labels.get(lang(), x.key) for x in directory.topic_labels(db())}


# --- activities ---------------------------------------------------------------------------------
@bp.get("/activities")
@login_required
def activities():
    """Record a visit, a meeting, a letter, a call or an event (a phone-sized form) and see the latest."""
    rows = db().scalars(select(Activity).where(access.activity_filter(current_user))
                        .order_by(Activity.day.desc(), Activity.id.desc()).limit(50)).all()
    made = db().scalars(select(Case).where(Case.id.in_([a.case_id for a in rows if a.case_id]))).all() \
        if any(a.case_id for a in rows) else []
    # The case an activity became, and whether this user may open it (it may be with another specialist).
    refs = {c.id: (c.ref, c.specialist.name, access.permits(db(), current_user, access.READ, c, _today()))
            for c in made}
    return render_template("staff/activities.html", rows=rows, kinds=activity.KINDS, topics=_topics(),
                           today=_today().isoformat(), refs=refs)


@bp.post("/activities")
@login_required
def add_activity():
    session = db()
    try:
        typed = field("participants").strip()
        participants = int(_number(typed, "participants")) if typed else None
        try:
            day = date.fromisoformat(field("date") or _today().isoformat())
        except ValueError as exc:
            raise activity.ActivityError("date is YYYY-MM-DD", "date", "date") from exc
        company, looked = activity.company_for(session, settings(), field("business_id", limit=20),
                                               field("company", limit=200), clock())
        made = activity.record(session, kind=field("kind"), day=day,
                               company=company, business_id_text=field("business_id", limit=20),
                               topic=field("topic") or None, participants=participants,
                               note=field("note"), user=current_user, source="ui", now=clock())
    except ValueError as exc:  # an ActivityError or a typed number that is not one
        session.rollback()
        flash(_said(exc), "error")
        return redirect(url_for("plan.activities"))
    rollups.refresh_if_old(session, [made.day.strftime("%Y-%m")], clock(), settings().timezone)
    _registry_said(looked)
    return redirect(url_for("plan.activities"))


def _registry_said(looked: Optional[registry.Lookup]) -> None:
    """Saved: with what the trade register had, or why it had nothing (the name can be added later)."""
    if looked is not None and looked.company is not None:
        found = looked.company
        flash(_("staff.registry_found") + f": {found.name}" + "".join(
            f", {x}" for x in (found.form, found.line_of_business, found.address) if x))
    elif looked is not None:
        flash(_("staff.registry_unknown") if looked.status == registry.UNKNOWN else _("staff.registry_unreachable"),
              "error")
    else:
        flash(_("staff.done"))


@bp.post("/activities/<int:activity_id>/case")
@login_required
def activity_to_case(activity_id: int):
    """The company met needs something: a case for the topic's specialist, with the promise, from this activity."""
    session = db()
    row = session.scalar(select(Activity).where(Activity.id == activity_id, access.activity_filter(current_user)))
    if row is None:
        abort(404)
    if row.case_id is None:
        email, phone = split_contact(field("contact", limit=254) or None)
        topic = field("topic") or row.topic or "general"
        try:
            made = hand_off(session, settings(), HandoffRequest(
                idempotency_key=f"activity:{row.id}", topic=topic, language="fi", channel="activity",
                customer_name=field("name", limit=200) or None, email=email, phone=phone,
                company=row.company or row.business_id, summary=field("need", limit=4000) or row.note,
                kind="activity", notify_customer=False), clock())
        except HandoffError as exc:
            session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("plan.activities"))
        row.case_id = made.case.id
    case = session.get_one(Case, row.case_id)
    if access.permits(session, current_user, access.READ, case, _today()):
        return redirect(url_for("staff.case_page", ref=case.ref))
    flash(f"{case.ref}: {case.specialist.name}")  # with another specialist: who has it, and its reference
    return redirect(url_for("plan.activities"))


# --- sales pipeline -----------------------------------------------------------------------------
@bp.get("/pipeline")
@login_required
def pipeline_board():
    """The sales board: one column per stage, each lead a card with its move buttons (a list on a phone)."""
    columns = leads.board(db(), access.lead_filter(current_user))
    return render_template("staff/pipeline.html", columns=columns, stages=leads.STAGES,
                           summary=leads.summary(db(), date(_today().year, 1, 1), date(_today().year + 1, 1, 1)))


@bp.post("/pipeline")
@login_required
def add_lead():
    session = db()
    company, looked = activity.company_for(session, settings(), field("business_id", limit=20),
                                           field("company", limit=200), clock())
    sector = field("sector", limit=100) or (looked.company.line_of_business if looked and looked.company else "")
    try:
        leads.add(session, company=company, sector=sector,
                  jobs=field("jobs", limit=12), investment_eur=field("investment_eur", limit=16),
                  plot_interest=field("plot_interest", limit=200), business_id=field("business_id", limit=20),
                  note=field("note", limit=4000), owner=current_user, now=clock())
    except leads.PipelineError as exc:
        session.rollback()
        if looked is not None and looked.company is None:  # why the name is missing: the register had none
            _registry_said(looked)
        flash(_said(exc), "error")
        return redirect(url_for("plan.pipeline_board"))
    _registry_said(looked)
    return redirect(url_for("plan.pipeline_board"))


@bp.post("/pipeline/<int:lead_id>/stage")
@login_required
def move_lead(lead_id: int):
    session = db()
    lead = session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    if not access.moves_lead(current_user, lead):
        abort(403)
    try:
        leads.move(session, lead, field("stage"), _today(), clock(), jobs=field("jobs", limit=12) or None)
    except leads.PipelineError as exc:
        session.rollback()
        flash(_said(exc), "error")
        return redirect(url_for("plan.pipeline_board"))
    lead.owner_id = lead.owner_id or current_user.id
    return redirect(url_for("plan.pipeline_board") + f"#lead-{lead.id}")


@bp.post("/cases/<ref>/lead")
@login_required
def case_to_lead(ref: str):
    """A plots-and-premises customer who may locate here goes on the sales board (once)."""
    session = db()
    case = session.scalar(select(Case).where(Case.ref == ref[:20]))
    if case is None or not access.permits(session, current_user, access.READ, case, _today()):
        abort(404)
    lead = leads.from_case(session, case, current_user, clock())
    flash(_("staff.done"))
    return redirect(url_for("plan.pipeline_board") + f"#lead-{lead.id}")


# --- campaigns and targets (leads see, admins change) ---------------------------------------------
def _board_only():
    if not access.reads_board_figures(current_user):
        abort(403)


@bp.get("/campaigns")
@login_required
def campaigns():
    _board_only()
    return render_template("staff/campaigns.html", rows=campaign.results(db()),
                           can_add=access.manages_campaigns(current_user))


@bp.post("/campaigns")
@login_required
def add_campaign():
    if not access.manages_campaigns(current_user):
        abort(403)
    session = db()
    cost = field("cost", limit=30)
    try:
        body = {k: field(k, limit=200) for k in ("code", "name", "starts", "ends", "sms_keyword", "email_tag",
                                                  "number")}
        body["cost"] = _number(cost, "cost") if cost.strip() else None
        campaign.create(session, body, clock())
    except (campaign.CampaignError, ValueError) as exc:
        session.rollback()
        flash(_said(exc), "error")
        return redirect(url_for("plan.campaigns"))
    flash(_("staff.done"))
    return redirect(url_for("plan.campaigns"))


@bp.get("/targets")
@login_required
def targets():
    _board_only()
    year = request.args.get("year", str(_today().year))
    year = int(year) if year.isascii() and year.isdigit() and 2000 <= int(year) <= 2100 else _today().year
    rows = target.progress(db(), f"{year}-01", f"{year}-12", clock(), settings(), threshold=report.EXACT)
    return render_template("staff/targets.html", rows=rows, year=year, measures=target.MEASURES,
                           can_set=access.manages_campaigns(current_user))


@bp.post("/targets")
@login_required
def set_target():
    if not access.manages_campaigns(current_user):
        abort(403)
    session = db()
    try:
        month = field("month", limit=10).strip()
        target.set_target(session, field("measure"), int(_number(field("year", limit=10), "year")),
                          _number(field("value", limit=30), "value"), int(_number(month, "month")) if month else 0,
                          clock())
    except (target.TargetError, ValueError) as exc:
        session.rollback()
        flash(_said(exc), "error")
        return redirect(url_for("plan.targets"))
    flash(_("staff.done"))
    return redirect(url_for("plan.targets", year=field("year")))


# --- the board's report -------------------------------------------------------------------------
@bp.get("/report/board")
@login_required
def board_report():
    """The month's report, printable (and as Markdown with ?format=md), in Finnish, Swedish or English."""
    _board_only()
    month = request.args.get("month") or rollups.shift_month(rollups.month_key(clock(), settings().timezone), -1)
    if not rollups.valid_month(month):
        abort(400)
    language = lang()
    session = db()
    data = report.build(session, settings(), month, clock())
    audit.record(session, "board_report", user=current_user, now=clock(), detail={"month": month})
    if request.args.get("format") == "md":
        return Response(report.markdown(data, language), mimetype="text/markdown; charset=utf-8")
    return render_template("staff/board_report.html", month=month, **report.page(data, language),
                           case_link=lambda ref: url_for("staff.case_page", ref=ref))
