"""The two link pages of a warm referral: the customer's consent and the partner's confirmation. Opening either
records nothing (mail scanners open links); only the page's own button does."""
from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from router.casework import referral
from router.texts import LANGUAGES
from router.web import clock, db, settings

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


@bp.route("/consent/<token>", methods=["GET", "POST"])
def consent(token: str):
    """The customer agrees (the partner is told) or declines (the case stays with the specialist)."""
    found = referral.from_token(db(), settings(), token, referral.CONSENT)
    if found is None:
        abort(404)
    g.language = found.case.language if found.case.language in LANGUAGES else "fi"
    state = "ask" if found.status == "asked" else "answered"
    if request.method == "POST" and state == "ask":
        choice = request.form.get("answer", "")
        if choice not in ("yes", "no"):
            return render_template("referral.html", lang=g.language, who="customer", state="ask", r=found,
                                   error=True), 400
        done = referral.agree(db(), settings(), found, clock()) if choice == "yes" else \
            referral.decline(db(), settings(), found, clock())
        state = choice if done else "answered"
    return render_template("referral.html", lang=g.language, who="customer", state=state, r=found)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The partner confirms they have taken the customer's matter up."""
    found = referral.from_token(db(), settings(), token, referral.CONFIRM)
    if found is None:
        abort(404)
    partner_language = found.partner.languages[0] if found.partner.languages else "fi"
    g.language = request.args.get("lang") if request.args.get("lang") in LANGUAGES else partner_language
    state = {"sent": "ask", "confirmed": "confirmed"}.get(found.status, "gone")
    if request.method == "POST" and state == "ask":
        state = "done" if referral.confirm(db(), settings(), found, clock()) else "gone"
    return render_template("referral.html", lang=g.language, who="partner", state=state, r=found)
