"""Custom actions: language for the session, topic, clarification, contact form checks, handoff."""
import hashlib
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import router_api

TOPICS = {"founding", "funding", "recruitment", "internationalisation", "plots", "general"}
LANGUAGES = {"fi", "sv", "en"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NO_COMPANY = {"-", "ei", "ei ole", "ei vielä", "no", "none", "nej", "inget", "ingen", "skip"}
# On SMS the router already knows the customer's number; Rasa never sees it.
KNOWN_BY_CHANNEL = "(channel)"


def _session_metadata(tracker: Tracker) -> Dict[str, Any]:
    return tracker.get_slot("session_started_metadata") or {}


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


class ActionSetTopic(Action):
    """Remember the topic the customer asked about; on SMS or voice the contact is already known."""

    def name(self) -> Text:
        return "action_set_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = intent if intent in TOPICS else "general"
        menu = await router_api.get("/internal/menu", {"language": tracker.get_slot("language") or "fi"},
                                    _request_id(tracker))
        labels = {b["payload"].lstrip("/"): b["title"] for b in (menu or {}).get("buttons", [])}
        events: List[EventType] = [SlotSet("topic", topic), SlotSet("topic_label", labels.get(topic, topic))]
        if tracker.get_slot("channel") in {"sms", "voice"}:
            events.append(SlotSet("contact", KNOWN_BY_CHANNEL))
        return events


class ActionClarify(Action):
    """Ask which topic is meant, with the router's menu of topics as buttons."""

    def name(self) -> Text:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        menu = await router_api.get("/internal/menu", {"language": tracker.get_slot("language") or "fi"},
                                    _request_id(tracker))
        if not menu:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(text=menu["text"], buttons=menu["buttons"])
        return []


class ValidateContactForm(FormValidationAction):
    """Check the contact details before the handoff."""

    def name(self) -> Text:
        return "validate_contact_form"

    def validate_customer_name(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        name = " ".join(str(value or "").split())[:120]
        return {"customer_name": name or None}

    def validate_contact(self, value: Any, dispatcher: CollectingDispatcher,
                         tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if text == KNOWN_BY_CHANNEL or EMAIL.match(text):
            return {"contact": text}
        if len(re.sub(r"\D", "", text)) >= 7 and re.fullmatch(r"[+\d\s()-]{7,20}", text):
            return {"contact": text}
        dispatcher.utter_message(response="utter_invalid_contact")
        return {"contact": None}

    def validate_company(self, value: Any, dispatcher: CollectingDispatcher,
                         tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = " ".join(str(value or "").split())[:200]
        return {"company": "-" if text.lower() in NO_COMPANY or not text else text}


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
        return cleared
