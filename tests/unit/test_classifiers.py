import pytest

from router.inbound.classification import classify
from router.inbound.keywords import classify as keywords
from router.inbound.language import detect
from router.inbound.rasa_client import RasaUnavailable


@pytest.mark.parametrize("text, topic", [
    ("Haluaisin perustaa kahvilan", "founding"),
    ("tarvitsen rahoitusta investointiin", "funding"),
    ("rekry apua", "recruitment"),
    ("vi vill börja exportera till Norge", "internationalisation"),
    ("we need premises for a warehouse", "plots"),
    ("jag söker finansiering", "funding"),
    ("I want to hire a developer", "recruitment"),
])
def test_keyword_fallback_finds_the_topic(text, topic):
    assert keywords(text).topic == topic


@pytest.mark.parametrize("text", ["", "hei", "mitä kuuluu?", "<script>alert(1)</script>"])
def test_keyword_fallback_does_not_guess_without_evidence(text):
    guess = keywords(text)
    assert (guess.topic, guess.confidence) == ("general", 0.0)


@pytest.mark.parametrize("text, language", [
    ("Hei, haluaisin perustaa kahvilan Ouluun", "fi"),
    ("mista loytaa tyontekijoita", "fi"),
    ("Hej, jag vill grunda ett företag", "sv"),
    ("Hello, I would like to start a cafe", "en"),
    ("vi söker en lokal", "sv"),
    ("tarttisin apua firman kanssa", "fi"),
])
def test_language_is_detected(text, language):
    assert detect(text) == language


def test_language_defaults_when_nothing_tells():
    assert detect("123", default="sv") == "sv"


class DownRasa:
    def parse(self, text):
        raise RasaUnavailable("ConnectError")


class RankingRasa:
    def parse(self, text):
        return {"intent_ranking": [{"name": "greet", "confidence": 0.6}, {"name": "plots", "confidence": 0.3},
                                   {"name": "funding", "confidence": 0.1}]}


def test_classification_uses_the_best_topic_in_rasa_s_ranking():
    result = classify("hei tontti", RankingRasa(), ["plots", "funding"])
    assert (result.topic, result.confidence, result.source) == ("plots", 0.3, "rasa")
    assert not result.confident


def test_classification_falls_back_to_keywords_when_rasa_is_down():
    result = classify("tarvitsen rahoitusta", DownRasa(), ["funding"])
    assert (result.topic, result.source, result.language) == ("funding", "fallback", "fi")


class PartsRasa:
    """Rasa's ranking for a few exact texts (the whole message and its joined parts)."""

    def __init__(self, answers):
        self.answers, self.asked = answers, []

    def parse(self, text, timeout=None):
        self.asked.append(text)
        return {"intent_ranking": [{"name": n, "confidence": c} for n, c in self.answers[text]]}


def test_each_joined_part_sure_of_its_own_topic_makes_two_topics_and_faq_counts_as_general():
    from router.inbound.classification import topics_in

    rasa = PartsRasa({"rahoitusta koneeseen ja kaksi työntekijää": [("funding", 0.5), ("recruitment", 0.5)],
                      "rahoitusta koneeseen": [("funding", 0.97)], "kaksi työntekijää": [("recruitment", 0.95)]})
    assert topics_in("rahoitusta koneeseen ja kaksi työntekijää", rasa, TOPICS) == ["funding", "recruitment"]
    # No joining word: no extra classification at all.
    assert topics_in("rahoitusta koneeseen kahdelle", rasa, TOPICS) == [] and len(rasa.asked) == 3
    # A message sure of one topic as a whole has one request; a part unsure of its topic is no request.
    sure = PartsRasa({"olen työtön ja haluan yrittäjäksi": [("founding", 0.995)]})
    assert topics_in("olen työtön ja haluan yrittäjäksi", sure, TOPICS) == []
    unsure = PartsRasa({"uusi tontti ja vähän muuta": [("plots", 0.6)], "uusi tontti": [("plots", 0.99)],
                        "vähän muuta": [("funding", 0.7)]})
    assert topics_in("uusi tontti ja vähän muuta", unsure, TOPICS) == [] and "vähän muuta" in unsure.asked
    faq = PartsRasa({"missä olette ja milloin": [("faq_address", 0.6), ("faq_hours", 0.4)]})
    assert classify("missä olette ja milloin", faq, TOPICS).as_dict()["topic"] == "general"


TOPICS = ["founding", "funding", "recruitment", "internationalisation", "plots"]
