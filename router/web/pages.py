"""Public pages: the agency's example page with the chat widget."""
from flask import Blueprint, render_template

from router.web import settings

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    return render_template("index.html", settings=settings())
