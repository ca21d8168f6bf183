"""What the service says, in fi, sv and en. SMS texts stay in the GSM-7 alphabet (a test guards it)."""
from __future__ import annotations

# Said in English (with a line in Finnish and Swedish) to a language the service does not serve.
UNSERVED = ("Sorry, I can only help in Finnish, Swedish or English. Please write in one of them: tell me in a"
              " few words what your business needs. (Palvelemme suomeksi, ruotsiksi ja englanniksi. Vi betjänar"
              " på finska, svenska och engelska.)")

TEXTS: dict[str, dict[str, str]] = {
    "handoff_confirmed": {
        "fi": "{name}, {title}, on yhteydessä sinuun viimeistään {date}. Asiasi viite on {ref}.",
        "sv": "{name}, {title}, kontaktar dig senast {date}. Ditt ärendes referens är {ref}.",
        "en": "{name}, {title}, will contact you by {date} at the latest. Your reference is {ref}.",
    },
    "customer_confirmation_subject": {
        "fi": "[{ref}] Asiasi on vastaanotettu",
        "sv": "[{ref}] Ditt ärende har tagits emot",
        "en": "[{ref}] We have received your request",
    },
    "customer_confirmation_body": {
        "fi": "Hei {customer},\n\nkiitos yhteydenotostasi. {name}, {title}, on yhteydessä sinuun viimeistään {date}."
              "\nAsiasi viite on {ref}.\n\nYstävällisin terveisin\n{service}",
        "sv": "Hej {customer},\n\ntack för att du kontaktade oss. {name}, {title}, kontaktar dig senast {date}."
              "\nDitt ärendes referens är {ref}.\n\nMed vänliga hälsningar\n{service}",
        "en": "Hello {customer},\n\nthank you for contacting us. {name}, {title}, will contact you by {date} at the"
              " latest.\nYour reference is {ref}.\n\nBest regards\n{service}",
    },
    "customer_confirmation_sms": {
        "fi": "{service}: {name}, {title}, on yhteydessä sinuun viimeistään {date}. Viite {ref}.",
        "sv": "{service}: {name}, {title}, kontaktar dig senast {date}. Referens {ref}.",
        "en": "{service}: {name}, {title}, will contact you by {date}. Reference {ref}.",
    },
    "rasa_down": {
        "fi": "Viestisi on tallessa. Avustaja on hetken poissa käytöstä: vastaamme tähän, kun se palaa, ja"
              " viimeistään {minutes} minuutin kuluttua asiantuntija ottaa asiasi hoitaakseen. {name}, {title},"
              " auttaa aiheessa {topic}: {email}, {phone}.",
        "sv": "Ditt meddelande är sparat. Assistenten är tillfälligt ur bruk: vi svarar här när den är tillbaka,"
              " och senast om {minutes} minuter tar en expert ärendet. {name}, {title}, hjälper med {topic}:"
              " {email}, {phone}.",
        "en": "Your message is saved. The assistant is briefly unavailable: we will answer here when it is back,"
              " and within {minutes} minutes at the latest a specialist will take your matter. {name}, {title},"
              " helps with {topic}: {email}, {phone}.",
    },
    # Said in English to a message in a language the service does not serve (router/inbound/language.py).
    "unserved_language": {"fi": UNSERVED, "sv": UNSERVED, "en": UNSERVED},
    # After a refused consent: the public way to reach the service desk.
    "service_desk": {
        "fi": "Palveluneuvonta auttaa myös suoraan: puhelin {phone}, sähköposti {email}.",
        "sv": "Kundtjänsten hjälper också direkt: telefon {phone}, e-post {email}.",
        "en": "The service desk also helps directly: phone {phone}, email {email}.",
    },
    "chat_not_stored": {
        "fi": "Viestiäsi ei saatu juuri nyt tallennettua. Yritämme lähettää sen uudelleen hetken kuluttua.",
        "sv": "Ditt meddelande kunde inte sparas just nu. Vi försöker skicka det igen om en stund.",
        "en": "Your message could not be saved just now. We will try to send it again in a moment.",
    },
    "chat_too_long": {
        "fi": "Viesti on liian pitkä: enintään {limit} merkkiä.",
        "sv": "Meddelandet är för långt: högst {limit} tecken.",
        "en": "The message is too long: at most {limit} characters.",
    },
    "chat_empty": {
        "fi": "Viestissä ei ollut tekstiä. Kirjoita viestisi ja lähetä uudelleen.",
        "sv": "Meddelandet hade ingen text. Skriv ditt meddelande och skicka igen.",
        "en": "The message had no text. Please write your message and send it again.",
    },
    "chat_bad_session": {
        "fi": "Keskustelua ei löytynyt. Aloita uusi keskustelu.",
        "sv": "Samtalet hittades inte. Börja ett nytt samtal.",
        "en": "The conversation was not found. Please start a new one.",
    },
    "bot_busy": {
        "fi": "Viestisi on tallessa. Avustaja käsittelee vielä edellistä viestiäsi; vastaus tulee tähän hetken"
              " kuluttua.",
        "sv": "Ditt meddelande är sparat. Assistenten behandlar ännu ditt förra meddelande; svaret kommer hit om"
              " en stund.",
        "en": "Your message is saved. The assistant is still working on your previous message; the answer will"
              " appear here in a moment.",
    },
    "bot_away_case": {
        "fi": "Avustaja ei palannut ajoissa, joten asiasi on nyt ihmisen hoidossa: {name}, {title}, on"
              " yhteydessä viimeistään {date}. Viite {ref}.",
        "sv": "Assistenten kom inte tillbaka i tid, så en människa tar ditt ärende: {name}, {title}, kontaktar"
              " dig senast {date}. Referens {ref}.",
        "en": "The assistant did not come back in time, so a person has your matter: {name}, {title}, will"
              " contact you by {date}. Reference {ref}.",
    },
    "follow_up_ack": {
        "fi": "Viestisi on välitetty asiasi hoitajalle ({name}), viite {ref}. Hän näkee sen heti asiasi yhteydessä.",
        "sv": "Ditt meddelande har skickats vidare till {name}, som sköter ditt ärende {ref}.",
        "en": "Your message has been passed on to {name}, who handles your matter {ref}.",
    },
    "new_matter_question": {
        "fi": "Koskeeko tämä uutta asiaa ({topic})? Asiaasi {ref} hoitaa jo {name}.",
        "sv": "Gäller det här ett nytt ärende ({topic})? Ditt ärende {ref} sköts redan av {name}.",
        "en": "Is this a new matter ({topic})? Your matter {ref} is already with {name}.",
    },
    "new_matter_yes": {"fi": "Kyllä, uusi asia", "sv": "Ja, ett nytt ärende", "en": "Yes, a new matter"},
    "new_matter_no": {"fi": "Ei, välitä viesti hoitajalleni", "sv": "Nej, till {name}", "en": "No, pass it to {name}"},
    "staff_joined": {
        "fi": "{name} liittyi keskusteluun.",
        "sv": "{name} anslöt till samtalet.",
        "en": "{name} joined the conversation.",
    },
    "clarify": {
        "fi": "Mitä asiasi koskee? Valitse aihe:",
        "sv": "Vad gäller ditt ärende? Välj ett ämne:",
        "en": "What is your matter about? Choose a topic:",
    },
    "clarify_sms": {
        "fi": "Vastaa numerolla:",
        "sv": "Svara med en siffra:",
        "en": "Reply with a number:",
    },
    "sms_stopped": {
        "fi": "{service}: Et saa enää automaattisia viestejä. Aloita uudelleen vastaamalla ALOITA.",
        "sv": "{service}: Du får inga fler automatiska meddelanden. Svara START för att börja igen.",
        "en": "{service}: You will get no more automated messages. Reply START to restart.",
    },
    "sms_started": {
        "fi": "{service}: Automaattiset viestit ovat taas käytössä. Kerro, miten voimme auttaa.",
        "sv": "{service}: Automatiska meddelanden är på igen. Berätta hur vi kan hjälpa.",
        "en": "{service}: Automated messages are on again. Tell us how we can help.",
    },
    "sms_help": {
        "fi": "{service}, yrityspalvelut: puh. {phone}, {email}. Kirjoita asiasi tähän. LOPETA lopettaa viestit."
              " Tietosuoja: {privacy}",
        "sv": "{service}, företagstjänster: tfn {phone}, {email}. Skriv ditt ärende här. SLUTA stoppar meddelanden."
              " Dataskydd: {privacy}",
        "en": "{service}, business services: tel. {phone}, {email}. Write your matter here. STOP ends messages."
              " Privacy: {privacy}",
    },
    "privacy_footer": {
        "fi": "Näin käsittelemme tietojasi ja näin voit pyytää niiden poistamista: {url}",
        "sv": "Så behandlar vi dina uppgifter och så kan du be att de raderas: {url}",
        "en": "How we handle your data, and how to ask us to erase it: {url}",
    },
    "sms_media_only": {
        "fi": "Kirjoita asiasi tekstinä, niin ohjaamme sen oikealle asiantuntijalle.",
        "sv": "Skriv ditt ärende som text, så skickar vi det till rätt expert.",
        "en": "Please write your matter as text and we will pass it to the right specialist.",
    },
    "voice_welcome": {
        "fi": "Tervetuloa {service} yrityspalveluihin. Kerro lyhyesti, mitä asiasi koskee. Palvelupisteeseen"
              " pääset painamalla nolla.",
        "sv": "För service på svenska, tryck 8.",
        "en": "For service in English, press 9.",
    },
    "voice_ask": {
        "fi": "Kerro lyhyesti, mitä asiasi koskee.",
        "sv": "Berätta kort vad ditt ärende gäller.",
        "en": "Please tell me briefly what your matter is about.",
    },
    "voice_menu_intro": {
        "fi": "En ole varma, ymmärsinkö oikein. Valitse aihe numeronäppäimellä.",
        "sv": "Jag är inte säker på att jag förstod. Välj ämne med sifferknapparna.",
        "en": "I am not sure I understood. Choose a topic with the keypad.",
    },
    "voice_menu_item": {"fi": "{label}, paina {digit}.", "sv": "{label}, tryck {digit}.", "en": "{label}, press {digit}."},
    "voice_connect": {
        "fi": "Yhdistän sinut asiantuntijallemme. {name}, {title}, auttaa sinua.",
        "sv": "Jag kopplar dig till vår expert. {name}, {title}, hjälper dig.",
        "en": "I will put you through to our specialist. {name}, {title}, will help you.",
    },
    "voice_callback": {
        "fi": "{name}, {title}, soittaa sinulle takaisin viimeistään {date}. Asiasi viite on {spelled}. Saat"
              " vahvistuksen tekstiviestinä. Kiitos soitostasi.",
        "sv": "{name}, {title}, ringer upp dig senast {date}. Ditt ärendes referens är {spelled}. Du får en"
              " bekräftelse per sms. Tack för ditt samtal.",
        "en": "{name}, {title}, will call you back by {date}. Your reference is {spelled}. You will get a text"
              " message to confirm. Thank you for calling.",
    },
    "voice_no_number": {
        "fi": "Numerosi ei näy meille, joten emme voi soittaa takaisin. Soita uudelleen numerosi näkyvänä tai"
              " kirjoita osoitteeseen {email}. Kiitos soitostasi.",
        "sv": "Ditt nummer syns inte, så vi kan inte ringa upp. Ring igen med synligt nummer eller skriv till"
              " {email}. Tack för ditt samtal.",
        "en": "Your number is hidden, so we cannot call you back. Please call again with your number shown or"
              " write to {email}. Thank you for calling.",
    },
    "voice_open_case": {
        "fi": "Asiaasi {spelled} hoitaa {name}. Paina 1, niin yhdistän hänelle, tai 2 jättääksesi hänelle"
              " viestin. Jos soitat uudesta asiasta, kerro se nyt.",
        "sv": "Ditt ärende {spelled} sköts av {name}. Tryck 1 för att kopplas till hen, eller 2 för att lämna ett"
              " meddelande. Gäller det något nytt, berätta det nu.",
        "en": "Your matter {spelled} is with {name}. Press 1 to be put through, or 2 to leave a message. If you"
              " are calling about something new, tell me now.",
    },
    "voice_leave_message": {
        "fi": "Kerro viestisi. {name} saa sen heti. Lopeta olemalla hetken hiljaa.",
        "sv": "Säg ditt meddelande till {name}. Avsluta genom att vara tyst en stund.",
        "en": "Please say your message for {name}. Stop by staying silent for a moment.",
    },
    "voice_message_taken": {
        "fi": "Kiitos. Viestisi on välitetty: {name} näkee sen asiasi {spelled} yhteydessä. Näkemiin.",
        "sv": "Tack. Ditt meddelande har skickats vidare till {name}, ärende {spelled}. Hej då.",
        "en": "Thank you. Your message has been passed on to {name}, matter {spelled}. Goodbye.",
    },
    "voice_again": {
        "fi": "En kuullut vastaustasi. Kerro vielä kerran lyhyesti, mitä asiasi koskee, tai paina nolla.",
        "sv": "Jag hörde inte ditt svar. Berätta en gång till vad ärendet gäller, eller tryck noll.",
        "en": "I did not hear you. Please tell me once more what your matter is about, or press zero.",
    },
    "voice_goodbye": {
        "fi": "Kiitos soitostasi. Näkemiin.",
        "sv": "Tack för ditt samtal. Hej då.",
        "en": "Thank you for calling. Goodbye.",
    },
    "voice_no_input": {
        "fi": "En kuullut vastausta. Voit myös lähettää tekstiviestin tähän numeroon. Näkemiin.",
        "sv": "Jag hörde inget svar. Du kan också skicka ett sms till det här numret. Hej då.",
        "en": "I did not hear an answer. You can also send a text message to this number. Goodbye.",
    },
    "voice_fallback": {
        "fi": "Pahoittelemme, palvelussa on häiriö. Puhelusi on kirjattu ja soitamme sinulle takaisin.",
        "sv": "Vi ber om ursäkt, det är en störning. Ditt samtal är registrerat och vi ringer upp dig.",
        "en": "We are sorry, there is a disruption. Your call is recorded and we will call you back.",
    },
    "callback_specialist_sms": {
        "fi": "{service}: soittopyyntö {ref}, aihe {topic}. Soita asiakkaalle {phone} viimeistään {date}.",
        "sv": "{service}: samtalsbegäran {ref}, ämne {topic}. Ring kunden {phone} senast {date}.",
        "en": "{service}: callback {ref}, topic {topic}. Call the customer {phone} by {date}.",
    },
    "email_ack_body": {
        "fi": "Hei{customer},\n\nkiitos viestistäsi. {name}, {title}, hoitaa asiaasi ja on yhteydessä sinuun viimeistään"
              " {date}.\nAsiasi viite on {ref}. Voit vastata tähän viestiin, niin vastauksesi liitetään asiaan.\n\n"
              "Tämä on automaattinen vastaus.\n{service}",
        "sv": "Hej{customer},\n\ntack för ditt meddelande. {name}, {title}, sköter ditt ärende och kontaktar dig senast"
              " {date}.\nDitt ärendes referens är {ref}. Du kan svara på detta meddelande, så läggs svaret till ärendet."
              "\n\nDetta är ett automatiskt svar.\n{service}",
        "en": "Hello{customer},\n\nthank you for your message. {name}, {title}, is handling your matter and will contact"
              " you by {date}.\nYour reference is {ref}. You can reply to this message and your reply joins the case."
              "\n\nThis is an automatic reply.\n{service}",
    },
    "taken_up": {
        "fi": "{service}: {name}, {title}, on aloittanut asiasi {ref} käsittelyn.",
        "sv": "{service}: {name}, {title}, har börjat sköta ditt ärende {ref}.",
        "en": "{service}: {name}, {title}, has started working on your matter {ref}.",
    },
    "reassigned": {
        "fi": "{service}: asiasi {ref} hoitaa nyt {name}, {title}. Hän on yhteydessä sinuun viimeistään {date}.",
        "sv": "{service}: ditt ärende {ref} sköts nu av {name}, {title}, som kontaktar dig senast {date}.",
        "en": "{service}: your matter {ref} is now with {name}, {title}, who will contact you by {date}.",
    },
    "taken_up_subject": {
        "fi": "[{ref}] {name} on aloittanut asiasi käsittelyn",
        "sv": "[{ref}] {name} har börjat med ditt ärende",
        "en": "[{ref}] {name} has started on your matter",
    },
    "reassigned_subject": {
        "fi": "[{ref}] Asiasi hoitaa nyt {name}",
        "sv": "[{ref}] Ditt ärende sköts nu av {name}",
        "en": "[{ref}] {name} now handles your matter",
    },
    "staff_message_subject": {
        "fi": "[{ref}] Viesti asiantuntijalta", "sv": "[{ref}] Meddelande från experten",
        "en": "[{ref}] A message from your specialist",
    },
    "survey_sms": {
        "fi": "{service}: Kuinka tyytyväinen olit palveluumme? Vastaa numerolla 1-5 (5 = erittäin tyytyväinen).",
        "sv": "{service}: Hur nöjd var du med vår service? Svara med en siffra 1-5 (5 = mycket nöjd).",
        "en": "{service}: How satisfied were you with our service? Reply with a number 1-5 (5 = very satisfied).",
    },
    "survey_email_subject": {
        "fi": "[{ref}] Kuinka onnistuimme?", "sv": "[{ref}] Hur lyckades vi?", "en": "[{ref}] How did we do?",
    },
    "survey_email_body": {
        "fi": "Hei,\n\nasiasi {ref} on hoidettu. Kuinka tyytyväinen olit palveluumme? Vastaaminen vie puoli minuuttia:"
              "\n{link}\n\nKiitos!\n{service}",
        "sv": "Hej,\n\nditt ärende {ref} är klart. Hur nöjd var du med vår service? Det tar en halv minut att svara:"
              "\n{link}\n\nTack!\n{service}",
        "en": "Hello,\n\nyour matter {ref} has been handled. How satisfied were you with our service? It takes half a "
              "minute:\n{link}\n\nThank you!\n{service}",
    },
    "survey_thanks_sms": {
        "fi": "{service}: Kiitos palautteestasi!", "sv": "{service}: Tack för din respons!",
        "en": "{service}: Thank you for your feedback!",
    },
}


def say(key: str, language: str, **values: object) -> str:
    """A text in the customer's language (Finnish when the language is unknown)."""
    variants = TEXTS[key]
    return variants.get(language, variants["fi"]).format(**values)
