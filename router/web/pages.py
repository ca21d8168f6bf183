"""Public pages: the agency's example page with the chat widget, in Finnish, Swedish and English."""
from flask import Blueprint, render_template, request

from router.privacy import notices
from router.web import db, settings

bp = Blueprint("pages", __name__)
LANGS = ("fi", "sv", "en")
WORDS = {
    "title": ("Yksi luukku yrittäjälle", "En lucka för företagare", "One door for businesses"),
    "intro": ("Perustaminen, rahoitus, rekrytointi, kansainvälistyminen, tontit ja toimitilat: kerro asiasi, niin "
              "ohjaamme sinut nimetylle asiantuntijalle. Asiasi otetaan työn alle kahden arkipäivän kuluessa.",
              "Att grunda företag, finansiering, rekrytering, internationalisering, tomter och lokaler: berätta vad "
              "ärendet gäller, så kopplar vi dig till en namngiven expert. Ditt ärende tas upp inom två vardagar.",
              "Starting a business, funding, recruitment, going international, plots and premises: tell us what you "
              "need and we connect you with a named specialist. Your matter is taken up within two working days."),
    "languages": ("Palvelemme suomeksi, ruotsiksi ja englanniksi.", "Vi betjänar på finska, svenska och engelska.",
                  "We serve you in Finnish, Swedish and English."),
    "phone": ("Puhelin", "Telefon", "Phone"), "email": ("Sähköposti", "E-post", "Email"),
    "conversation": ("Keskustelu", "Samtal", "Conversation"), "message": ("Viesti", "Meddelande", "Message"),
    "placeholder": ("Kirjoita viestisi…", "Skriv ditt meddelande…", "Type your message…"),
    "send": ("Lähetä", "Skicka", "Send"),
    "privacy": ("Miten käsittelemme tietojasi", "Hur vi behandlar dina uppgifter", "How we handle your data"),
    "busy": ("Liian monta viestiä lyhyessä ajassa: odota hetki.", "För många meddelanden på kort tid: vänta lite.",
             "Too many messages in a short time: please wait a moment."),
    "offline": ("Yhteys katkesi. Yritä uudelleen.", "Anslutningen bröts. Försök igen.",
                "Connection lost, please try again."),
    "end": ("Lopeta keskustelu", "Avsluta samtalet", "End conversation"),
    "ended": ("Keskustelu on lopetettu tässä selaimessa. Uusi viesti aloittaa uuden keskustelun.",
              "Samtalet är avslutat i den här webbläsaren. Ett nytt meddelande börjar ett nytt samtal.",
              "The conversation has ended in this browser. A new message starts a new conversation."),
}


def language() -> str:
    """The page's language: the visitor's choice (?lang=), else their browser's preference among fi, sv, en."""
    chosen = request.args.get("lang")
    if chosen in LANGS:
        return chosen
    return request.accept_languages.best_match(LANGS) or "fi"


@bp.get("/")
def index():
    lang = language()
    words = {key: values[LANGS.index(lang)] for key, values in WORDS.items()}
    return render_template("index.html", settings=settings(), lang=lang, w=words)


def _notice(key: str):
    lang = language()
    body = notices.text(db(), settings(), key, lang)
    return render_template("notice.html", settings=settings(), lang=lang, title=notices.TITLES[key][lang],
                           blocks=notices.blocks(body))


@bp.get("/privacy")
def privacy():
    """The privacy notice (what is kept, why, how long, your rights), in fi, sv or en."""
    return _notice("privacy")


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement."""
    return _notice("accessibility")
