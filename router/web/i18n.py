"""Staff pages in Finnish, with English available."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app, session
from flask_login import current_user

STAFF = {
    "login": ("Kirjaudu sisään", "Sign in"), "email": ("Sähköposti", "Email"), "password": ("Salasana", "Password"),
    "login_failed": ("Väärä sähköposti tai salasana.", "Wrong email or password."),
    "login_throttled": ("Liian monta epäonnistunutta yritystä. Odota hetki ja yritä sitten uudelleen.",
                        "Too many failed attempts. Wait a while, then try again."),
    "login_needs_mfa": ("Ylläpitäjän kirjautuminen vaatii toisen tunnistautumisvaiheen.",
                        "An administrator's sign-in needs a second factor."),
    "login_unavailable": ("Kirjautuminen ei ole juuri nyt käytettävissä. Yritä uudelleen hetken kuluttua.",
                          "Sign-in is unavailable for a moment. Please try again shortly."),
    "logged_out": ("Olet kirjautunut ulos.", "You have signed out."), "logout": ("Kirjaudu ulos", "Sign out"),
    "my_cases": ("Omat asiat", "My cases"), "all_cases": ("Kaikki asiat", "All cases"),
    "no_cases": ("Ei avoimia asioita.", "No open cases."), "due": ("Määräaika", "Due"),
    "overdue": ("Myöhässä", "Overdue"), "topic": ("Aihe", "Topic"), "customer": ("Asiakas", "Customer"),
    "specialist": ("Asiantuntija", "Specialist"), "status": ("Tila", "Status"), "channel": ("Kanava", "Channel"),
    "open": ("Avoin", "Open"), "taken_up": ("Työn alla", "Taken up"), "resolved": ("Ratkaistu", "Resolved"),
    "take_up": ("Ota työn alle", "Take up"), "note": ("Muistiinpano", "Note"),
    "add_note": ("Lisää muistiinpano", "Add note"),
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
    "deliveries": ("Toimitusvirheet", "Failed deliveries"),
    "no_failures": ("Kaikki viestit ovat menneet perille.", "Every message was delivered."),
    "recipient": ("Vastaanottaja", "Recipient"), "error": ("Virhe", "Error"), "attempts": ("Yritykset", "Attempts"),
    "retry": ("Lähetä uudelleen", "Send again"), "case": ("Asia", "Case"), "kind": ("Laji", "Kind"),
    "stated": ("asiakkaan ilmoittama, ei varmennettu", "stated by the customer, not verified"),
    "code": ("Vahvistuskoodi", "Verification code"),
    "oidc_login": ("Kirjaudu kaupungin tunnuksella", "Sign in with the city's account"),
    "code_failed": ("Väärä vahvistuskoodi.", "Wrong verification code."),
    "second_factor": ("Kaksivaiheinen tunnistus", "Two-step verification"),
    "session_ended": ("Istunto päättyi. Kirjaudu uudelleen.", "Your session ended. Please sign in again."),
    "search": ("Hae", "Search"), "search_hint": ("Viite, nimi, puhelin, sähköposti, yritys tai teksti",
                                                 "Reference, name, phone, email, company or text"),
    "results": ("Hakutulokset", "Search results"), "no_results": ("Ei osumia.", "Nothing found."),
    "open_list": ("Avoimet", "Open"), "waiting_list": ("Työn alla", "In progress"),
    "resolved_list": ("Ratkaistut", "Resolved"), "no_resolved": ("Ei ratkaistuja asioita.", "No resolved cases."),
    "download": ("Lataa", "Download"), "canned": ("Valmis vastaus", "Canned reply"), "use": ("Käytä", "Use"),
    "faq": ("Avustajan vastaukset", "Assistant's answers"),
    "faq_help": ("Avustaja vastaa näillä teksteillä kysymyksiin palvelusta itsestään, eikä asiasta synny"
                 " asiaa; vastauksen alla on aina painike, jolla asiakas pääsee ihmiselle. Tyhjä teksti palauttaa"
                 " oletuksen (asetukset SERVICE_*).",
                 "The assistant answers questions about the service itself with these texts, and no case is"
                 " made; under each answer a button takes the customer to a person. An empty text restores the"
                 " default (the SERVICE_* settings)."),
    "faq_hours": ("Aukioloajat", "Opening hours"), "faq_address": ("Osoite", "Address"),
    "faq_about": ("Mikä palvelu on", "What the service is"), "faq_contact": ("Yhteystiedot", "Contact"),
    "edited": ("muokattu", "edited"),
    "notices": ("Tietosuoja- ja saavutettavuusseloste", "Privacy notice and accessibility statement"),
    "notices_help": ("Julkiset sivut /privacy ja /accessibility. Oletusteksti kertoo säilytysajat asetuksista"
                     " (RETAIN_*); tyhjä teksti palauttaa sen. Tyhjä rivi aloittaa kappaleen, \"- \" luettelon.",
                     "The public pages /privacy and /accessibility. The default text names the retention periods"
                     " from the settings (RETAIN_*); an empty text restores it. A blank line starts a paragraph,"
                     " \"- \" a list."),
    "privacy_title": ("Henkilön tiedot", "A person's data"),
    "privacy_help": ("Hae henkilön kaikki tiedot puhelinnumerolla tai sähköpostilla: voit ladata ne (tietopyyntö) tai"
                     " poistaa ne (poistopyyntö). Molemmat kirjataan lokiin; lokiin ei tallenneta, kenestä oli kyse.",
                     "Find everything held about a person by phone number or email: download it (an access request)"
                     " or erase it (an erasure request). Both are recorded in the audit trail, without whom they"
                     " were about."),
    "privacy_find": ("Hae", "Find"), "privacy_found": ("Löytyi", "Found"),
    "privacy_give_contact": ("Anna puhelinnumero tai sähköposti.", "Give a phone number or an email address."),
    "privacy_cases": ("Asiat", "Cases"), "privacy_conversations": ("Keskustelut", "Conversations"),
    "privacy_calls": ("Puhelut", "Calls"), "privacy_surveys": ("Palautteet", "Surveys"),
    "privacy_sent": ("Lähetetyt viestit", "Messages sent"),
    "privacy_export": ("Lataa tiedot (JSON)", "Download the data (JSON)"),
    "privacy_confirm": ("Ymmärrän, että poisto on lopullinen.", "I understand that erasure cannot be undone."),
    "privacy_erase": ("Poista henkilön tiedot", "Erase this person's data"),
    "privacy_confirm_first": ("Vahvista poisto rastilla.", "Tick the box to confirm the erasure."),
    "privacy_erased": ("Poistettu: asioita {cases}, viestejä {messages}.",
                       "Erased: cases {cases}, messages {messages}."),
    "audit_title": ("Lokitiedot", "Audit trail"), "audit_case": ("Asia", "Case"), "audit_show": ("Näytä", "Show"),
    "audit_who": ("Kuka", "Who"), "audit_what": ("Mitä", "What"), "audit_csv": ("Lataa CSV", "Download CSV"),
    "notice_privacy": ("Tietosuojaseloste", "Privacy notice"),
    "notice_accessibility": ("Saavutettavuusseloste", "Accessibility statement"),
    "canned_replies": ("Valmiit vastaukset", "Canned replies"), "title": ("Otsikko", "Title"),
    "text": ("Teksti", "Text"), "add": ("Lisää", "Add"), "delete": ("Poista", "Delete"),
    "placeholders": ("Paikkamerkit: {name} = asiantuntijan nimi, {ref} = viite, {customer} = asiakkaan nimi",
                     "Placeholders: {name} = specialist's name, {ref} = reference, {customer} = customer's name"),
    "call": ("Soita", "Call"), "created": ("Saapui", "Arrived"),
    # channels, outcomes and event kinds: shown as words, never as keys
    "web": ("Verkkochat", "Web chat"), "sms": ("Tekstiviesti", "SMS"), "voice": ("Puhelu", "Phone call"),
    "whatsapp": ("WhatsApp", "WhatsApp"),
    "email_channel": ("Sähköposti", "Email"),
    "company_founded": ("Yritys perustettu", "Company founded"),
    "funding_granted": ("Rahoitus myönnetty", "Funding granted"),
    "person_hired": ("Henkilö palkattu", "Person hired"), "premises_found": ("Toimitila löytyi", "Premises found"),
    "company_located": ("Yritys sijoittui", "Company located here"),
    "advice_given": ("Neuvottu", "Advice given"), "referred_elsewhere": ("Ohjattu muualle", "Referred elsewhere"),
    "ev_taken_up": ("Otettu työn alle", "Taken up"), "ev_note": ("Muistiinpano", "Note"),
    "ev_message": ("Viesti asiakkaalle", "Message to the customer"), "ev_reassigned": ("Siirretty", "Reassigned"),
    "ev_resolved": ("Ratkaistu", "Resolved"), "ev_reminder": ("Muistutus", "Reminder"),
    "ev_escalated": ("Eskaloitu", "Escalated"), "ev_customer_message": ("Asiakkaan viesti", "Customer's message"),
    "ev_survey_answered": ("Palaute", "Feedback"), "ev_survey_sent": ("Palautekysely lähetetty", "Survey sent"),
    "au_customer": ("Asiakas", "Customer"), "au_bot": ("Avustaja", "Assistant"), "au_staff": ("Henkilöstö", "Staff"),
    "activities": ("Kohtaamiset", "Encounters"), "record_activity": ("Kirjaa kohtaaminen", "Record an encounter"),
    "date": ("Päivä", "Date"), "business_id": ("Y-tunnus", "Business ID"),
    "participants": ("Osallistujia", "Participants"), "make_case": ("Tee asia", "Make a case"),
    "need": ("Mitä yritys tarvitsee", "What the company needs"),
    "contact": ("Yhteyshenkilön sähköposti tai puhelin", "Contact's email or phone"),
    "name": ("Nimi", "Name"), "pipeline": ("Myyntiputki", "Sales pipeline"), "add_lead": ("Uusi liidi", "New lead"),
    "sector": ("Toimiala", "Sector"), "jobs": ("Työpaikkoja", "Jobs"), "investment": ("Investointi (€)",
                                                                               "Investment (€)"),
    "plot_interest": ("Kiinnostus tontteihin / tiloihin", "Plot or premises interest"),
    "move_to": ("Siirrä", "Move to"), "to_pipeline": ("Myyntiputkeen", "To the sales pipeline"),
    "campaigns": ("Kampanjat", "Campaigns"), "add_campaign": ("Uusi kampanja", "New campaign"),
    "starts": ("Alkaa", "Starts"), "ends": ("Päättyy", "Ends"), "cost": ("Kustannus (€)", "Cost (€)"),
    "sms_keyword": ("Tekstiviestin avainsana", "SMS keyword"),
    "email_tag": ("Sähköpostin tunniste (luukku+TUNNISTE@…)", "Email tag (luukku+TAG@…)"),
    "number": ("Oma numero (+358…)", "Own number (+358…)"), "campaign_code": ("Koodi (/?c=KOODI)", "Code (/?c=CODE)"),
    "contacts": ("Yhteydenotot", "Contacts"), "cases": ("Asiat", "Cases"), "outcomes": ("Tulokset", "Outcomes"),
    "per_contact": ("€ / yhteydenotto", "€ / contact"), "targets": ("Tavoitteet", "Targets"),
    "measure": ("Mittari", "Measure"), "year": ("Vuosi", "Year"), "month": ("Kuukausi (tyhjä = koko vuosi)",
                                                                         "Month (empty = the whole year)"),
    "value": ("Tavoite", "Target"), "actual": ("Toteuma", "Actual"), "pace": ("Tarvittava tahti", "Pace needed"),
    "previous": ("Edellisvuonna", "Last year"), "board_report": ("Hallituksen raportti", "Board report"),
    "au_system": ("Palvelu", "Service"), "au_unverified": ("Varmentamaton lähettäjä", "Unverified sender"),
}


def label(key: str, prefix: str = "") -> str:
    """A word for a stored key (channel, outcome, event, author); the key itself only if nothing is known."""
    name = prefix + ("email_channel" if key == "email" and not prefix else key or "")
    return t(name) if name in STAFF else (key or "-")


def local(when: datetime | None, with_time: bool = True) -> str:
    """A stored naive-UTC time in the agency's zone, the way the UI language writes it ("ti 1.12. 10.05")."""
    if when is None:
        return "-"
    tz = ZoneInfo(current_app.extensions["luukku"]["settings"].timezone)
    aware = when.replace(tzinfo=timezone.utc)
    pattern = ("EEE d.M.yyyy HH.mm" if with_time else "EEE d.M.yyyy") if lang() == "fi" else \
        ("EEE d MMM yyyy HH:mm" if with_time else "EEE d MMM yyyy")
    return format_datetime(aware, pattern, tzinfo=tz, locale=lang())


def lang() -> str:
    chosen = session.get("lang")
    if chosen in ("fi", "en"):
        return chosen
    return getattr(current_user, "language", "fi") if getattr(current_user, "is_authenticated", False) else "fi"


def t(key: str) -> str:
    fi, en = STAFF[key]
    return en if lang() == "en" else fi
