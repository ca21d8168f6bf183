"""Custom actions: language for the session, topic, clarification, answers about the agency, contact form, handoff."""
import hashlib
import re
import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, ActionExecutionRejected, EventType, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import router_api

TOPICS = {"founding", "funding", "recruitment", "internationalisation", "plots", "general"}
LANGUAGES = {"fi", "sv", "en"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NO_COMPANY = {"-", "ei", "ei ole", "ei vielä", "ei yritystä", "ei vielä yritystä", "ei ole yritystä",
              "ei ole vielä yritystä", "no", "none", "no company", "no company yet", "i don't have a company",
              "i have no company", "not yet", "nej", "inget", "ingen", "inget företag", "inget företag ännu",
              "inte ännu", "jag har inget företag", "skip"}
# The usual company forms, before or after the name: "Kuljetus Testaaja Oy", "Tmi Virtanen", "Nordic Ltd".
COMPANY_FORM = re.compile(r"(?:^|\s)(?:oy|oyj|ab|abp|tmi|ky|ay|ltd|llc|inc|plc|gmbh|corp|co)\.?(?:\s|$)",
                          re.IGNORECASE)
# An address or a number anywhere in a message ("anteeksi, sähköpostini on oikeasti uusi@example.org").
EMAIL_IN = re.compile(r"[^@\s,;:<>()\"']+@[^@\s,;:<>()\"']+\.[^\W\d_]{2,}")
PHONE_IN = re.compile(r"\+?\d[\d\s()-]{5,18}\d")
# Words that say an earlier answer was wrong.
CORRECTING = re.compile(r"\b(?:oikeasti|oikea|itse asiassa|korjaan|korjaus|korjataan|anteeksi|sori|tarkoitin|"
                        r"väärin|virhe|egentligen|rätt|rättelse|förlåt|ursäkta|jag menade|fel|actually|sorry|"
                        r"correction|i meant|typo|wrong|should be|pitäisi olla|ska vara)\b", re.IGNORECASE)
# "My name is …", "the company is …" as a correction names it: the value is what follows.
NAME_SAID = re.compile(r"\b(?:my name is|my name's|name is|nimeni on|mun nimi on|nimi on|jag heter|mitt namn är|"
                       r"namnet är)\s+(?:(?:actually|oikeasti|egentligen|itse asiassa)\s+)?(.+)$", re.IGNORECASE)
COMPANY_SAID = re.compile(r"\b(?:company is called|company's name is|company name is|company is|"
                          r"yritykseni nimi on|yrityksen nimi on|yritykseni on|yritys on|firma on|firmani on|"
                          r"företaget heter|mitt företag heter|företagets namn är|företaget är|firman heter)\s+"
                          r"(?:(?:actually|oikeasti|egentligen|itse asiassa)\s+)?(.+)$", re.IGNORECASE)
# A question about why something is asked or how long it is kept, at any question of the form.
WHY = re.compile(r"\b(?:miksi|mihin|mitä varten|kuinka kauan|miten kauan|kauanko|varför|till vad|vad ska ni ha|"
                 r"hur länge|why|what for|what do you need|how long)\b", re.IGNORECASE)
# On SMS the router already knows the customer's number; Rasa never sees it.
KNOWN_BY_CHANNEL = "(channel)"


def _session_metadata(tracker: Tracker) -> Dict[str, Any]:
    return tracker.get_slot("session_started_metadata") or {}


def _language_request(tracker: Tracker) -> bool:
    """Whether the router found the message asking to be served in a language (metadata `language_request`)."""
    return bool((tracker.latest_message.get("metadata") or {}).get("language_request"))


def _request_id(tracker: Tracker) -> Any:
    """The router's id for this turn (X-Request-Id), passed in the message's metadata."""
    return (tracker.latest_message.get("metadata") or {}).get("request_id")


class ActionSessionStart(Action):
    """Start a session and keep the customer's language and channel for all of it."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        metadata = _session_metadata(tracker)
        language = metadata.get("language") if metadata.get("language") in LANGUAGES else None
        language = language or tracker.get_slot("language") or "fi"
        events: List[EventType] = [SessionStarted(), SlotSet("language", language)]
        if metadata.get("channel"):
            events.append(SlotSet("channel", str(metadata["channel"])))
        events.append(ActionExecuted("action_listen"))
        return events


async def two_topics(tracker: Tracker, dispatcher: CollectingDispatcher, language: str) -> Optional[List[str]]:
    """The topics, when the message asks for two or more; the customer is then asked which goes first (and the
    others are offered after its handoff)."""
    text = str(tracker.latest_message.get("text") or "")
    if text.startswith("/") or len(text.split()) < 4:
        return None  # a button, or too short to hold two requests
    # The router classifies each joined part alone ("rahoitusta ja työntekijöitä").
    named = ((await router_api.post("/internal/topics", {"text": text}, _request_id(tracker))) or {}).get("topics")
    if not isinstance(named, list) or len(named) < 2:
        return None
    labels = await _labels(language, _request_id(tracker))
    titles = [labels.get(t, t) for t in named]
    dispatcher.utter_message(response="utter_two_topics", topics=", ".join(titles),
                             buttons=[{"title": title, "payload": f"/{t}"} for t, title in zip(named, titles)])
    return [str(t) for t in named]


class ActionSetTopic(Action):
    """Remember the topic the customer asked about; on SMS or voice the contact is already known."""

    def name(self) -> Text:
        return "action_set_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = intent if intent in TOPICS else "general"
        language = tracker.get_slot("language") or "fi"
        named = await two_topics(tracker, dispatcher, language)
        if named:
            # The customer chooses which matter goes first (the form waits); the others are offered after it.
            return [SlotSet("other_topics", named), FollowupAction("action_listen")]
        if topic == "internationalisation" and _language_request(tracker):
            # "can I write in Swedish?" reads as internationalisation; the router has switched the language, so
            # the customer is greeted in it and asked for their matter instead. (Another topic named with the
            # request, "tarvitsen rahoitusta, voinko puhua englanniksi", is the matter and goes on.)
            dispatcher.utter_message(response="utter_greet")
            return [FollowupAction("action_listen")]
        labels = await _labels(language, _request_id(tracker))
        events: List[EventType] = [SlotSet("topic", topic), SlotSet("topic_label", labels.get(topic, topic))]
        others = [t for t in tracker.get_slot("other_topics") or [] if t != topic]
        events.append(SlotSet("other_topics", others or None))
        if tracker.get_slot("channel") in {"sms", "voice"}:
            events.append(SlotSet("contact", KNOWN_BY_CHANNEL))
        return events


class ActionClarify(Action):
    """Ask which topic is meant, with the router's menu of topics as buttons."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        language = tracker.get_slot("language") or "fi"
        named = await two_topics(tracker, dispatcher, language)
        if named:
            return [SlotSet("other_topics", named)]  # unsure because it asks for two things: the customer picks
        if _language_request(tracker):
            # Unsure of a topic in "voinko kirjoittaa englanniksi": it asks for a language, not a matter, and is
            # greeted in that language like one read as internationalisation (ActionSetTopic).
            dispatcher.utter_message(response="utter_greet")
            return []
        menu = await router_api.get("/internal/menu", {"language": language}, _request_id(tracker))
        if not menu:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(text=menu["text"], buttons=menu["buttons"])
        return []


class ActionFaqAnswer(Action):
    """Answer a question about the agency itself from the router's admin-edited answers; no case is made."""

    def name(self) -> Text:
        return "action_faq_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        intent, _ = _intent(tracker)
        answer = await _faq(tracker, str(intent or ""))
        if not answer:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(text=answer["text"], buttons=answer["buttons"])
        return []


async def _faq(tracker: Tracker, intent: str) -> Optional[Dict[Text, Any]]:
    """The router's answer (text and buttons) to an faq_* intent, in the conversation's language."""
    return await router_api.get(f"/internal/faq/{intent[len('faq_'):]}",
                                {"language": tracker.get_slot("language") or "fi"}, _request_id(tracker))


# A question about the agency typed inside the form. Fictional names scored at most 0.39 on an faq_* intent and
# real questions 0.89 or more (2026-11-30), so a name is never taken for one.
FAQ_CONFIDENCE = 0.8


async def _faq_answered(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """Answer a question about the agency typed at a form question, with or without "?" (the form then asks its
    own question again); False when the message is no such question."""
    name, confidence = _intent(tracker)
    if not (str(name or "").startswith("faq_") and confidence >= FAQ_CONFIDENCE):
        return False
    answer = await _faq(tracker, name)
    if not answer:
        return False
    # Without the "a person, please" button: the customer is already on the way to one.
    dispatcher.utter_message(text=answer["text"])
    return True


# A name: one to five words of letters, joined by spaces, hyphens, apostrophes or periods ("Anna-Liisa
# O'Neill", "J. Virtanen"); never digits, question marks, commas, "@" or a link.
NAME = re.compile(r"^[^\W\d_]+(?:(?:[ '’.-]|\. )[^\W\d_]+)*\.?$")
# A topic named this confidently inside the form is the customer correcting the topic, not answering.
TOPIC_CONFIDENCE = 0.8
# "Wrong topic" said this confidently leaves the form for the topic menu (the button is 1.0); below it, the
# message is checked as an answer like any other.
CORRECTION_CONFIDENCE = 0.6


# Off-topic chat ("tell me a joke") or a vague "I have a question" is no answer to a form question even without a
# question mark, when the NLU is this sure: such messages scored 0.99 or more, fictional names 0.82 at most on
# either intent (2026-11-30).
NO_ANSWER_INTENTS = ("out_of_scope", "vague")
NO_ANSWER_CONFIDENCE = 0.95


def _chat_not_answer(tracker: Tracker) -> bool:
    """Whether the message is off-topic or vague chat rather than an answer to the form's question."""
    name, confidence = _intent(tracker)
    return name in NO_ANSWER_INTENTS and confidence >= NO_ANSWER_CONFIDENCE


# What people type before their name at the name question; the name is what follows ("Nimeni on Testi Asiakas").
NAME_LEAD_IN = re.compile(r"^(?:my name is|my name's|i am|i'm|this is|nimeni on|mun nimi on|minun nimeni on|"
                          r"minä olen|olen|jag heter|mitt namn är|jag är)\s+", re.IGNORECASE)
# Words in no one's name: pronouns, question words, negations and "name" itself ("en halua kertoa nimeäni",
# "varför behöver ni mitt namn"). Words that are also names or short surnames (Anna, Min, Ni, Ge, Do) are not here.
NOT_IN_A_NAME = frozenset("""
    my me i you your why what how where when who which name not don't dont want need rather tell give say please the
    en et ei miksi mitä mikä miten missä mihin nimi nimeni nimeäni nimeä nimen minun mun minä mä halua haluan kerro
    kerron sano tarvitsette
    jag mitt mina namn namnet varför vad hur inte vill behöver heter säga berätta
""".split())


def name_from(text: str) -> str:
    """The name in a message typed at the name question, without a lead-in ("My name is …") or a final period."""
    text = " ".join(text.split())
    return NAME_LEAD_IN.sub("", text).rstrip(".!") or text


def plausible_name(text: str) -> bool:
    """Whether a message typed at the name question reads as a person's name."""
    words = text.lower().split()
    return 1 <= len(words) <= 5 and len(text) <= 80 and bool(NAME.match(text)) and \
        not NOT_IN_A_NAME.intersection(words)


def plausible_company(text: str) -> bool:
    """Whether a message typed at the company question can be a company's name (not a question or a link)."""
    return 0 < len(text) <= 120 and "?" not in text and "://" not in text and len(text.split()) <= 8


def no_company(text: str, intent: Any) -> bool:
    """Whether the answer at the company question says there is none: the button, or a few words saying so.

    A name the NLU happens to read as "deny" ("Northern Compute") is a name: free text counts only with a word
    of refusal in it.
    """
    lowered = text.lower().strip(" .!")
    if text == "/deny" or lowered in NO_COMPANY:
        return True
    words = re.findall(r"[^\W\d_]+", lowered)
    return intent == "deny" and len(words) <= 5 and bool(
        {"ei", "en", "no", "not", "none", "nej", "inte", "inget", "ingen"} & set(words))


def contact_in(text: str) -> Optional[str]:
    """An email address or a phone number inside a sentence, if the sentence holds one."""
    email = EMAIL_IN.search(text)
    if email:
        return email.group(0).rstrip(".")
    phone = PHONE_IN.search(text)
    if phone and len(re.sub(r"\D", "", phone.group(0))) >= 7:
        return " ".join(phone.group(0).split())
    return None


ABOUT = (("contact", re.compile(r"e-?mail|sähköpost|puhelin|numero|nummer|phone|telefon|osoit|adress|address",
                                re.IGNORECASE)),
         ("company", re.compile(r"yrity|firma|company|företag", re.IGNORECASE)),
         ("customer_name", re.compile(r"\bnim|\bnamn|\bname", re.IGNORECASE)))


def correction(text: str, asked: Optional[str], slots: Dict[str, Any]) -> Optional[tuple]:
    """(slot, new value) when the message corrects an answer given earlier in the form, else None.

    A new address or number said as one ("sorry, my email is actually …" at the company question) replaces the
    contact once it is known; a name or a company needs the words that give it ("nimeni on oikeasti …") and a
    word saying the earlier one was wrong.
    """
    known = slots.get("contact")
    if asked != "contact" and known and known != KNOWN_BY_CHANNEL:
        found = contact_in(text)
        rest = text.replace(found or "", " ")
        # Said as a correction or as what it is ("my email is …"); a bare number typed at the consent question
        # answers nothing.
        if found and found.lower() != str(known).lower() and (CORRECTING.search(rest) or ABOUT[0][1].search(rest)):
            return "contact", found
    if not CORRECTING.search(text):
        return None
    said = NAME_SAID.search(text)
    if said and slots.get("customer_name") and asked != "customer_name":
        name = name_from(CORRECTING.sub("", said.group(1)).strip(" ,.!:"))
        if plausible_name(name) and name != slots.get("customer_name"):
            return "customer_name", name
    said = COMPANY_SAID.search(text)
    if said and slots.get("company") and asked != "company":
        company = " ".join(CORRECTING.sub("", said.group(1)).split()).strip(" ,.!:")
        if plausible_company(company) and company != slots.get("company"):
            return "company", company
    return None


def why_about(text: str, asked: str) -> str:
    """Which answer a "why do you need …" question is about: the one it names, else the one asked for."""
    return next((slot for slot, words in ABOUT if words.search(text)), asked)


def _intent(tracker: Tracker) -> tuple:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def _topic_said(tracker: Tracker) -> Any:
    """The topic the customer's message names confidently, if it does (the topic menu's buttons included)."""
    name, confidence = _intent(tracker)
    text = str(tracker.latest_message.get("text") or "")
    if _language_request(tracker):
        return None  # "can I write in Swedish instead" (internationalisation at 0.83): the router switched language
    # A topic is said in words (or clicked: "/plots"); a bare number or address is an answer, whatever NLU thinks.
    said = text.startswith("/") or len(re.findall(r"[^\W\d_]{2,}", text)) >= 2
    # "General" typed is no topic named: an apology, a remark, a change of language ("Förlåt, jag skriver hellre
    # på svenska") reads as general; only the menu's button asks for the service desk.
    if name == "general" and not text.startswith("/"):
        return None
    return name if said and name in TOPICS and confidence >= TOPIC_CONFIDENCE else None


_LABELS: Dict[str, tuple] = {}  # language -> (fetched at, {topic: label}); the directory is edited rarely
LABELS_TTL = 60.0


async def _labels(language: str, request_id: Any) -> Dict[str, str]:
    """The topics' labels in a language, from the router's menu (cached for a minute)."""
    fetched = _LABELS.get(language)
    if fetched and time.monotonic() - fetched[0] < LABELS_TTL:
        return fetched[1]
    menu = await router_api.get("/internal/menu", {"language": language}, request_id)
    labels = {b["payload"].lstrip("/"): b["title"] for b in (menu or {}).get("buttons", [])}
    if labels:
        _LABELS[language] = (time.monotonic(), labels)
    return labels


async def _new_topic(tracker: Tracker, dispatcher: CollectingDispatcher) -> Optional[Dict[Text, Any]]:
    """The slots for a topic the customer named inside the form: {} for the same topic, None when none was named."""
    name = _topic_said(tracker)
    if name is None:
        return None
    if name == tracker.get_slot("topic"):
        return {}  # the topic again (or the menu's button that brought the form back): the question is repeated
    label = (await _labels(tracker.get_slot("language") or "fi", _request_id(tracker))).get(name, name)
    dispatcher.utter_message(response="utter_topic_switched", topic_label=label)
    return {"topic": name, "topic_label": label}


class ValidateContactForm(FormValidationAction):
    """Check each answer of the contact form; a correction, a question or another topic is never stored as one."""

    def name(self) -> Text:
        return "validate_contact_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent, confidence = _intent(tracker)
        asked = tracker.get_slot("requested_slot")
        answer = " ".join(str(tracker.latest_message.get("text") or "").split())
        plausible = asked == "customer_name" and plausible_name(answer)
        slots = {name: tracker.get_slot(name) for name in ("customer_name", "contact", "company")}
        fixed = correction(answer, asked, slots)
        if fixed is not None:
            # The earlier answer is replaced (the case and every message after it use the new one) and the
            # question asked now is asked again.
            slot, value = fixed
            dispatcher.utter_message(response=f"utter_corrected_{slot}", value=value)
            return [SlotSet(slot, value)] + ([SlotSet(asked, None)] if asked else [])
        if asked and WHY.search(answer) and not answer.startswith("/"):
            why = await router_api.get(f"/internal/why/{why_about(answer, asked)}",
                                       {"language": tracker.get_slot("language") or "fi"}, _request_id(tracker))
            if why and why.get("text"):
                dispatcher.utter_message(text=why["text"])  # then the form asks its question again
                return [SlotSet(asked, None)]
        if intent == "change_topic" and (confidence >= CORRECTION_CONFIDENCE or
                                         (confidence >= 0.45 and not plausible)):
            # Rejected, the form asks nothing more: the rule for a correction shows the topics. The words were
            # already taken as the answer to the question asked; they are not kept.
            return ([SlotSet(asked, None)] if asked else []) + [ActionExecutionRejected("contact_form")]
        events = await super().run(dispatcher, tracker, domain)
        # The customer may have changed language since the topic was named: the consent question names it in
        # the language it is asked in.
        topic = next((e["value"] for e in reversed(events) if e.get("event") == "slot" and e.get("name") == "topic"),
                     tracker.get_slot("topic"))
        if topic:
            label = (await _labels(tracker.get_slot("language") or "fi", _request_id(tracker))).get(topic)
            if label and label != tracker.get_slot("topic_label"):
                events.append(SlotSet("topic_label", label))
        return events

    async def validate_customer_name(self, value: Any, dispatcher: CollectingDispatcher,
                                     tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        name = name_from(str(value or ""))
        if await _faq_answered(tracker, dispatcher):  # "where is your office" reads like a name to the pattern
            return {"customer_name": None}
        topic = _topic_said(tracker)
        if plausible_name(name) and not _chat_not_answer(tracker) and (topic is None or
                                                                      topic == tracker.get_slot("topic")):
            return {"customer_name": name}
        switched = await _new_topic(tracker, dispatcher)
        if switched is None:
            dispatcher.utter_message(response="utter_invalid_name")
        return {"customer_name": None, **(switched or {})}

    async def validate_contact(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if text == KNOWN_BY_CHANNEL or EMAIL.match(text):
            return {"contact": text}
        if len(re.sub(r"\D", "", text)) >= 7 and re.fullmatch(r"[+\d\s()-]{7,20}", text):
            return {"contact": text}
        found = contact_in(text)  # "sähköpostini on testi@example.org", "my number is 040 123 4567"
        if found:
            return {"contact": found}
        switched = await _new_topic(tracker, dispatcher)
        if switched is None and not await _faq_answered(tracker, dispatcher):
            dispatcher.utter_message(response="utter_invalid_contact")
        return {"contact": None, **(switched or {})}

    async def validate_company(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = " ".join(str(value or "").split())
        if no_company(text, _intent(tracker)[0]):  # the "no company yet" button is /deny
            return {"company": "-"}
        if text.startswith("/"):  # a topic's button: the customer chose another topic
            switched = await _new_topic(tracker, dispatcher)
            if switched is not None:
                return {"company": None, **switched}
        if plausible_company(text) and COMPANY_FORM.search(text):
            return {"company": text}  # "Nordic Fermentation Ltd": a company's name, whatever words it holds
        if await _faq_answered(tracker, dispatcher):  # "missä toimistonne on" could pass for a company's name
            return {"company": None}
        # Words in a company's name never change the topic ("Glassbaren på torget", "Rekrytointipalvelu Oy"):
        # the topic changes only by its button or by saying the topic was wrong (the form's rule for that).
        if not plausible_company(text) or _chat_not_answer(tracker):
            dispatcher.utter_message(response="utter_invalid_company")
            return {"company": None}
        return {"company": text}

    async def validate_consent(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        intent, _ = _intent(tracker)
        if intent in ("affirm", "deny"):
            return {"consent": intent == "affirm"}
        switched = await _new_topic(tracker, dispatcher)
        if switched is None and not await _faq_answered(tracker, dispatcher):
            dispatcher.utter_message(response="utter_invalid_consent")
        return {"consent": None, **(switched or {})}


FORM_SLOTS = ["customer_name", "contact", "company", "consent", "topic", "topic_label"]


class ActionHandoff(Action):
    """Hand the customer to a named specialist through the router and say who and by when."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        cleared = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if not tracker.get_slot("consent"):
            dispatcher.utter_message(response="utter_no_consent")
            # The router removes what the customer typed into these slots from its transcript and from Rasa's
            # tracker store (the answer above says so), and gives the service desk's public contact details. Only
            # the slots' names travel: the values would be one more copy.
            dispatcher.utter_message(json_message={"forget": ["customer_name", "contact", "company"]})
            return cleared
        company = tracker.get_slot("company")
        contact = tracker.get_slot("contact")
        topic = tracker.get_slot("topic") or "general"
        # The key comes from the conversation and the form's content, so a retried action (or a retried request
        # to Rasa) finds the case the first attempt made instead of making a second one.
        content = "|".join(str(x or "") for x in (topic, tracker.get_slot("customer_name"), contact, company))
        request = {
            "conversation": tracker.sender_id,
            "idempotency_key": f"{tracker.sender_id}:{hashlib.sha256(content.encode()).hexdigest()[:16]}",
            "topic": topic,
            "language": tracker.get_slot("language") or "fi",
            "customer_name": tracker.get_slot("customer_name"),
            "contact": None if contact == KNOWN_BY_CHANNEL else contact,
            "company": None if company in (None, "-") else company,
            "consent": True,
        }
        answer = await router_api.post("/internal/handoffs", request, _request_id(tracker))
        if not answer:
            # The router was unreachable or slow: the request goes back with the answer, and the router makes
            # the case itself (same key). Only a router that cannot do that either shows the apology.
            dispatcher.utter_message(response="utter_handoff_failed")
            dispatcher.utter_message(json_message={"handoff": request})
        else:
            dispatcher.utter_message(text=answer["text"])
        others = [t for t in tracker.get_slot("other_topics") or [] if t != topic and t in TOPICS]
        if not others:
            return cleared
        # The other matter of a message that asked for two, right away; the form will not ask who they are again
        # (the consent is asked again: another specialist).
        labels = await _labels(tracker.get_slot("language") or "fi", _request_id(tracker))
        dispatcher.utter_message(response="utter_second_topic",
                                 topic_label=", ".join(labels.get(t, t) for t in others),
                                 buttons=[{"title": labels.get(t, t), "payload": f"/{t}"} for t in others])
        return [SlotSet(slot, None) for slot in ("consent", "topic", "topic_label")] + \
            [SlotSet("other_topics", others)]
