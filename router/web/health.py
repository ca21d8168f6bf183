"""Liveness and readiness for orchestrators."""
from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from router import metrics
from router.web import clock, db, rasa

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        db().execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = "unavailable"
    checks["rasa"] = "ok" if rasa().ready() else "unavailable"
    try:  # someone must be delivering the outbox and replaying waiting messages
        checks["worker"] = "ok" if metrics.worker_alive(db(), clock()) else "no fresh heartbeat"
    except Exception:  # noqa: BLE001 - the database check above already says why
        checks["worker"] = "unknown"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503

# Only on the internal listener: it says how busy the service is.
ops = Blueprint("ops", __name__)


@ops.get("/metrics")
def prometheus():
    """Prometheus exposition; served on the internal listener only (it says how busy the service is)."""
    return Response(metrics.render(db(), clock()), mimetype=CONTENT_TYPE_LATEST)
