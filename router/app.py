"""The Flask app factory: nothing runs at import."""
from __future__ import annotations

import logging
from typing import Any, Mapping, Optional

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect

from . import config as config_mod
from .db import make_engine, make_sessionmaker
from .models import utcnow
from .rasa_client import RasaClient
from .sms import SmsChannel
from .throttle import Throttle
from .voice import VoiceChannel


def create_app(config: Optional[Mapping[str, Any]] = None, *, rasa=None, clock=None) -> Flask:
    """Build the router web app; `config` overrides settings (tests), `rasa` and `clock` replace the real ones."""
    settings = config_mod.load(config)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=1_000_000,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        JSON_SORT_KEYS=False,
        REMEMBER_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    rasa = rasa or RasaClient(settings.rasa_url, settings.rasa_timeout)
    app.extensions["luukku"] = {
        "settings": settings,
        "engine": engine,
        "sessions": sessions,
        "rasa": rasa,
        "clock": clock or utcnow,
        "sms": SmsChannel(settings, sessions, rasa, budget=settings.sms_reply_budget),
        "voice": VoiceChannel(settings, sessions, rasa),
        "login_throttle": Throttle(),
    }

    @app.teardown_appcontext
    def _close_session(_exc: Optional[BaseException]) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    from .web import (admin, api_v1, auth, chat, dev, health, impact_admin, impact_page, internal, pages, staff,
                      survey_page, twilio)
    from .web.i18n import lang, t

    csrf = CSRFProtect(app)
    # Machine-to-machine routes authenticate otherwise (signatures, tokens) and carry no browser session.
    for module in (chat, internal, twilio, api_v1):
        csrf.exempt(module.bp)
    auth.login_manager.init_app(app)
    app.jinja_env.globals.update(t=t, lang=lang)
    for module in (health, chat, internal, pages, dev, twilio, auth, staff, admin, survey_page, api_v1, impact_page,
                   impact_admin):
        app.register_blueprint(module.bp)
    return app
