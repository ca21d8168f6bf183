"""The promise's timers and the survey's rules on a frozen clock, across weekends and holidays."""
from datetime import datetime, timedelta

import pytest

from router.casework.promise import due_at
from router.casework.promise_keeper import due_actions
from router.casework.survey import parse_score, send_time


def actions(contact, now, **state):
    return due_actions(due_at=due_at(contact), taken_up=state.get("taken_up", False),
                       reminded=state.get("reminded", False), escalated=state.get("escalated", False), now=now)


@pytest.mark.parametrize("contact, quiet, reminder, breach", [
    # Thu 18 Jun 2026 (before Midsummer): due Tue 23 Jun 16:00 Helsinki = 13:00 UTC
    (datetime(2026, 6, 18, 9), datetime(2026, 6, 22, 12), datetime(2026, 6, 23, 5, 1), datetime(2026, 6, 23, 13, 1)),
    # Wed 23 Dec 2026 (before Christmas): due Tue 29 Dec 16:00 = 14:00 UTC
    (datetime(2026, 12, 23, 9), datetime(2026, 12, 28, 20), datetime(2026, 12, 29, 6, 0), datetime(2026, 12, 29, 14, 1)),
    # Thu 2 Apr 2026 (Maundy Thursday): Good Friday and Easter Monday are off; due Wed 8 Apr
    (datetime(2026, 4, 2, 9), datetime(2026, 4, 7, 12), datetime(2026, 4, 8, 5, 0), datetime(2026, 4, 8, 13, 1)),
    # Fri 27 Nov 2026: the weekend does not count; due Tue 1 Dec
    (datetime(2026, 11, 27, 9), datetime(2026, 11, 30, 15), datetime(2026, 12, 1, 6, 0), datetime(2026, 12, 1, 14, 1)),
])
def test_reminder_on_the_due_morning_and_escalation_after_the_breach(contact, quiet, reminder, breach):
    assert actions(contact, quiet) == []
    assert actions(contact, reminder - timedelta(minutes=2)) == []  # still night before 08:00 local
    assert actions(contact, reminder) == ["remind"]
    assert actions(contact, reminder, reminded=True) == []
    assert actions(contact, breach, reminded=True) == ["escalate"]
    assert actions(contact, breach) == ["escalate"]  # a reminder after the breach is pointless
    assert actions(contact, breach, reminded=True, escalated=True) == []
    assert actions(contact, breach, taken_up=True) == []


@pytest.mark.parametrize("text, score, comment", [
    ("5", 5, None), (" 4 kiitos!", 4, "kiitos!"), ("viisi", 5, None), ("Neljä, hyvä palvelu", 4, "hyvä palvelu"),
    ("fem", 5, None), ("three", 3, None), ("5/5", 5, None), ("2. liian hidasta", 2, "liian hidasta"),
    ("10", None, "10"), ("0", None, "0"), ("hyvä palvelu", None, "hyvä palvelu"), ("", None, None),
    ("55", None, "55"),
])
def test_survey_answers_by_sms_are_understood(text, score, comment):
    assert parse_score(text) == (score, comment)


@pytest.mark.parametrize("resolved, expected", [
    (datetime(2026, 11, 30, 8, 0), datetime(2026, 11, 30, 10, 0)),    # Mon 10:00 → 12:00 local
    (datetime(2026, 11, 30, 17, 30), datetime(2026, 12, 1, 7, 0)),    # Mon 19:30 → +2 h is 21:30 → Tue 09:00
    (datetime(2026, 12, 4, 16, 0), datetime(2026, 12, 7, 7, 0)),      # Fri 18:00 → 20:00 → Mon 09:00 (weekend)
    (datetime(2026, 12, 23, 17, 0), datetime(2026, 12, 28, 7, 0)),    # before Christmas → Mon 28 Dec 09:00
    (datetime(2026, 11, 30, 3, 0), datetime(2026, 11, 30, 7, 0)),     # 05:00 + 2 h = 07:00 → 09:00
])
def test_surveys_go_out_within_sensible_hours_on_working_days(resolved, expected):
    assert send_time(resolved, delay=timedelta(hours=2), tz="Europe/Helsinki") == expected


def test_month_arithmetic_for_the_impact_range():
    from router.impact.rollups import month_bounds, months_between, shift_month

    assert shift_month("2026-11", -11) == "2025-12" and shift_month("2026-01", -1) == "2025-12"
    assert shift_month("2000-03", -11) == "2000-01"
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    # Helsinki months in UTC: October 2026 starts at 21:00 UTC on 30 Sep (summer time) and ends at 22:00 on 31 Oct.
    assert month_bounds("2026-10", "Europe/Helsinki") == (datetime(2026, 9, 30, 21), datetime(2026, 10, 31, 22))
