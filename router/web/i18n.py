"""Staff pages in Finnish, with English available."""
from __future__ import annotations

from flask import session
from flask_login import current_user

STAFF = {
    "login": ("Kirjaudu sisään", "Sign in"), "email": ("Sähköposti", "Email"), "password": ("Salasana", "Password"),
    "login_failed": ("Väärä sähköposti tai salasana.", "Wrong email or password."),
    "login_throttled": ("Liian monta epäonnistunutta yritystä. Yritä uudelleen 15 minuutin kuluttua.",
                        "Too many failed attempts. Try again in 15 minutes."),
    "logged_out": ("Olet kirjautunut ulos.", "You have signed out."), "logout": ("Kirjaudu ulos", "Sign out"),
    "my_cases": ("Omat asiat", "My cases"), "all_cases": ("Kaikki asiat", "All cases"),
    "no_cases": ("Ei avoimia asioita.", "No open cases."), "due": ("Määräaika", "Due"),
    "overdue": ("Myöhässä", "Overdue"), "topic": ("Aihe", "Topic"), "customer": ("Asiakas", "Customer"),
    "specialist": ("Asiantuntija", "Specialist"), "status": ("Tila", "Status"), "channel": ("Kanava", "Channel"),
    "open": ("Avoin", "Open"), "taken_up": ("Työn alla", "Taken up"), "resolved": ("Ratkaistu", "Resolved"),
    "take_up": ("Ota työn alle", "Take up"), "note": ("Muistiinpano", "Note"), "add_note": ("Lisää muistiinpano", "Add note"),
    "message": ("Viesti asiakkaalle", "Message the customer"), "send": ("Lähetä", "Send"),
    "reassign": ("Siirrä", "Reassign"), "resolve": ("Ratkaise", "Resolve"), "outcome": ("Tulos", "Outcome"),
    "spam": ("Roskaposti (ei kyselyä)", "Spam (no survey)"), "transcript": ("Keskustelu", "Transcript"),
    "events": ("Tapahtumat", "Events"), "promise": ("Lupaus", "Promise"),
    "in_time": ("Otettu työn alle ajoissa", "Taken up in time"), "late": ("Otettu työn alle myöhässä", "Taken up late"),
    "waiting": ("Odottaa, määräaika", "Waiting, due"), "company": ("Yritys", "Company"), "phone": ("Puhelin", "Phone"),
    "language": ("Kieli", "Language"), "any_specialist": ("(valitse automaattisesti)", "(choose automatically)"),
    "same_topic": ("(sama aihe)", "(same topic)"), "done": ("Tehty.", "Done."), "admin": ("Hakemisto", "Directory"),
    "save": ("Tallenna", "Save"), "titles": ("Nimikkeet", "Titles"), "topics": ("Aiheet", "Topics"),
    "languages": ("Kielet", "Languages"), "hours": ("Työajat", "Working hours"), "absences": ("Poissaolot", "Absences"),
    "deputy": ("Sijainen", "Deputy"), "active": ("Aktiivinen", "Active"), "import_yaml": ("Tuo YAML", "Import YAML"),
    "attachments": ("Liitteet", "Attachments"), "survey": ("Palaute", "Feedback"), "edit": ("Muokkaa", "Edit"),
    "back": ("Takaisin", "Back"),
    "stated": ("asiakkaan ilmoittama, ei varmennettu", "stated by the customer, not verified"),
    "code": ("Vahvistuskoodi", "Verification code"),
    "oidc_login": ("Kirjaudu kaupungin tunnuksella", "Sign in with the city's account"),
    "code_failed": ("Väärä vahvistuskoodi.", "Wrong verification code."),
    "second_factor": ("Kaksivaiheinen tunnistus", "Two-step verification"),
    "session_ended": ("Istunto päättyi. Kirjaudu uudelleen.", "Your session ended. Please sign in again."),
}


def lang() -> str:
    chosen = session.get("lang")
    if chosen in ("fi", "en"):
        return chosen
    return getattr(current_user, "language", "fi") if getattr(current_user, "is_authenticated", False) else "fi"


def t(key: str) -> str:
    fi, en = STAFF[key]
    return en if lang() == "en" else fi
