"""TwiML, only through these pure builders (the twilio library renders it)."""
from __future__ import annotations

from typing import Optional, Sequence

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

SPEECH_LANGUAGE = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-US"}


def sms_reply(texts: Sequence[str]) -> str:
    """A messaging response with one message per text; no texts is an empty response (reply comes later)."""
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)


def say_and_gather(prompts: Sequence[tuple[str, str]], *, action: str, language: str, digits: int = 1,
                   speech: bool = True, timeout: int = 6, then: Optional[tuple[str, str]] = None) -> str:
    """Say the prompts (text, language) inside a Gather; silence comes back to `action` too (empty input), so the
    service decides what happens next. `then` is said only if Twilio cannot reach `action` at all."""
    response = VoiceResponse()
    gather = Gather(input="speech dtmf" if speech else "dtmf", action=action, method="POST",
                    language=SPEECH_LANGUAGE.get(language, "fi-FI"), num_digits=digits, timeout=timeout,
                    speech_timeout="auto" if speech else None, action_on_empty_result=True)
    for text, lang in prompts:
        gather.say(text, language=SPEECH_LANGUAGE.get(lang, "fi-FI"))
    response.append(gather)
    if then:
        response.say(then[0], language=SPEECH_LANGUAGE.get(then[1], "fi-FI"))
    response.hangup()
    return str(response)


def connect(text: str, language: str, *, number: str, caller_id: str, action: str, timeout: int = 20) -> str:
    """Tell the caller who they are put through to, then dial them; Twilio posts the outcome to `action`."""
    response = VoiceResponse()
    response.say(text, language=SPEECH_LANGUAGE.get(language, "fi-FI"))
    dial = Dial(action=action, method="POST", timeout=timeout, caller_id=caller_id or None)
    dial.number(number)
    response.append(dial)
    return str(response)


def say_and_hang_up(text: str, language: str) -> str:
    response = VoiceResponse()
    response.say(text, language=SPEECH_LANGUAGE.get(language, "fi-FI"))
    response.hangup()
    return str(response)


def spell(ref: str) -> str:
    """A reference read out one character at a time ("LK-AB12CD" → "L, K, A, B, 1, 2, C, D")."""
    return ", ".join(ch for ch in ref if ch.isalnum())

