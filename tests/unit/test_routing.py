from datetime import date, datetime

from router.casework.routing import Candidate, choose, is_working_now

PERIOD = (date(2026, 11, 30), date(2026, 12, 2))
HOURS = {d: ["08:00", "16:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def people(**overrides):
    base = {
        "maija": Candidate("maija", ("founding",), ("fi", "en"), deputy="sanna", working_hours=HOURS),
        "sanna": Candidate("sanna", ("founding", "general"), ("fi", "sv", "en"), deputy="maija"),
        "matti": Candidate("matti", ("funding",), ("fi",), deputy="sanna"),
        "paula": Candidate("paula", ("general",), ("fi", "sv", "en")),
    }
    base.update(overrides)
    return list(base.values())


def test_topic_then_language():
    assert choose(people(), "founding", "fi", PERIOD, {}).key == "maija"
    assert choose(people(), "founding", "sv", PERIOD, {}).key == "sanna"


def test_fewest_open_cases_breaks_ties():
    assert choose(people(), "founding", "fi", PERIOD, {"maija": 3, "sanna": 1}).key == "sanna"


def test_nobody_speaks_the_language_still_gets_the_topic_specialist():
    assert choose(people(), "funding", "sv", PERIOD, {}).key == "matti"


def test_absent_during_the_promise_period_goes_to_the_deputy():
    away = Candidate("matti", ("funding",), ("fi",), absences=((date(2026, 12, 2), date(2026, 12, 20)),),
                     deputy="sanna")
    assert choose(people(matti=away), "funding", "fi", PERIOD, {}).key == "sanna"


def test_absence_outside_the_period_does_not_matter():
    away = Candidate("matti", ("funding",), ("fi",), absences=((date(2026, 12, 10), date(2026, 12, 20)),))
    assert choose(people(matti=away), "funding", "fi", PERIOD, {}).key == "matti"


def test_unknown_topic_and_everyone_away_go_to_the_service_desk():
    assert choose(people(), "astrology", "fi", PERIOD, {}).key in {"sanna", "paula"}
    gone = ((date(2026, 1, 1), date(2026, 12, 31)),)
    crowd = people(maija=Candidate("maija", ("founding",), ("fi",), absences=gone, deputy="sanna"),
                   sanna=Candidate("sanna", ("founding", "general"), ("fi",), absences=gone))
    assert choose(crowd, "founding", "fi", PERIOD, {}).key == "paula"


def test_an_empty_directory_gives_nobody():
    assert choose([], "founding", "fi", PERIOD, {}) is None


def test_working_hours_matter_for_live_calls():
    maija = people()[0]
    assert is_working_now(maija, datetime(2026, 11, 30, 9, 0))        # Monday morning
    assert not is_working_now(maija, datetime(2026, 11, 30, 16, 0))   # closing time
    assert not is_working_now(maija, datetime(2026, 11, 28, 10, 0))   # Saturday


def test_a_tie_goes_to_whoever_has_the_topic_as_their_main_field():
    crowd = [Candidate("erik", ("internationalisation", "recruitment"), ("fi", "sv")),
             Candidate("liisa", ("recruitment",), ("fi",)),
             Candidate("paula", ("general",), ("fi",)),
             Candidate("sanna", ("founding", "general"), ("fi",))]
    assert choose(crowd, "recruitment", "fi", PERIOD, {}).key == "liisa"
    assert choose(crowd, "recruitment", "sv", PERIOD, {}).key == "erik"
    assert choose(crowd, "general", "fi", PERIOD, {}).key == "paula"
    assert choose(crowd, "recruitment", "fi", PERIOD, {"liisa": 2}).key == "erik"
