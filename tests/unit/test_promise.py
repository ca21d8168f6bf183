from datetime import date, datetime

import pytest

from router.casework.promise import add_working_days, due_at, format_day, is_working_day, local_date


@pytest.mark.parametrize("contact, due", [
    (date(2026, 6, 18), date(2026, 6, 23)),    # Thu before Midsummer Eve and Midsummer Day
    (date(2026, 12, 23), date(2026, 12, 29)),  # Wed before Christmas Eve, Christmas Day, Boxing Day
    (date(2026, 11, 28), date(2026, 12, 1)),   # Saturday: Monday is day one
    (date(2026, 4, 2), date(2026, 4, 8)),      # Maundy Thursday: Good Friday and Easter Monday are off
    (date(2026, 12, 4), date(2026, 12, 8)),    # Fri; Independence Day 6.12. falls on a Sunday
    (date(2026, 11, 23), date(2026, 11, 25)),  # an ordinary Monday
])
def test_two_working_days_skip_weekends_and_finnish_holidays(contact, due):
    assert add_working_days(contact, 2) == due


def test_the_agency_s_own_closed_days_do_not_count():
    assert add_working_days(date(2026, 11, 23), 2, closed_days=[date(2026, 11, 24)]) == date(2026, 11, 26)
    assert not is_working_day(date(2026, 11, 24), [date(2026, 11, 24)])


def test_due_at_is_the_end_of_the_working_day_in_helsinki_as_utc():
    # 18 Jun 2026 10:00 UTC is 13:00 in Helsinki (UTC+3 in summer); due Tue 23 Jun 16:00 local = 13:00 UTC.
    assert due_at(datetime(2026, 6, 18, 10, 0)) == datetime(2026, 6, 23, 13, 0)
    # In winter Helsinki is UTC+2.
    assert due_at(datetime(2026, 12, 23, 9, 0)) == datetime(2026, 12, 29, 14, 0)


def test_a_late_evening_contact_counts_from_the_local_day():
    # 21:30 UTC on Thursday is already Friday 00:30 in Helsinki in winter.
    assert local_date(datetime(2026, 11, 26, 22, 30)) == date(2026, 11, 27)
    assert due_at(datetime(2026, 11, 26, 22, 30)) == datetime(2026, 12, 1, 14, 0)


@pytest.mark.parametrize("language, text", [("fi", "ti 1.12.2026"), ("sv", "tis 1.12.2026"), ("en", "Tue 1 Dec 2026")])
def test_dates_are_written_as_customers_read_them(language, text):
    assert format_day(date(2026, 12, 1), language) == text
