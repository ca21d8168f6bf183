"""The rules behind the board's figures: campaign attribution from each marker, and a target's pace and previous
year."""
from datetime import date

import pytest

from router.plan import campaign, target
from router.plan.campaign import Marker

SPRING = Marker("KEVAT", date(2026, 3, 1), date(2026, 5, 31), sms_keyword="TONTTI", email_tag="kevat",
                number="+358 40 000 0099")
AUTUMN = Marker("SYKSY", date(2026, 9, 1), date(2026, 11, 30), sms_keyword="YRITYS")
BOTH = [SPRING, AUTUMN]


def test_a_link_code_counts_in_any_case_only_while_its_campaign_runs():
    assert campaign.from_link(BOTH, "kevat", date(2026, 4, 1)) == "KEVAT"
    assert campaign.from_link(BOTH, " SYKSY ", date(2026, 11, 30)) == "SYKSY"  # the last day counts
    assert campaign.from_link(BOTH, "KEVAT", date(2026, 6, 1)) is None       # over
    assert campaign.from_link(BOTH, "KEVAT", date(2026, 2, 28)) is None      # not yet
    assert campaign.from_link(BOTH, "OTHER", date(2026, 4, 1)) is None
    assert campaign.from_link(BOTH, "", date(2026, 4, 1)) is None and campaign.from_link(BOTH, None, date(2026, 4, 1)) is None


def test_an_sms_keyword_is_the_first_word_and_is_taken_off_the_text():
    assert campaign.from_sms(BOTH, "tontti, kerro lisää", None, date(2026, 4, 2)) == ("KEVAT", "kerro lisää")
    assert campaign.from_sms(BOTH, "TONTTI", None, date(2026, 4, 2)) == ("KEVAT", "")
    # The keyword later in the text, or out of season, is ordinary text.
    assert campaign.from_sms(BOTH, "Etsin tonttia", None, date(2026, 4, 2)) == (None, "Etsin tonttia")
    assert campaign.from_sms(BOTH, "TONTTI", None, date(2026, 10, 2)) == (None, "TONTTI")


def test_the_campaigns_own_number_wins_whatever_the_text():
    assert campaign.from_sms(BOTH, "YRITYS hei", "+358400000099", date(2026, 4, 2)) == ("KEVAT", "YRITYS hei")
    assert campaign.from_call(BOTH, "+358400000099", date(2026, 4, 2)) == "KEVAT"
    assert campaign.from_call(BOTH, "+358400000000", date(2026, 4, 2)) is None
    assert campaign.from_call(BOTH, "+358400000099", date(2026, 7, 2)) is None


def test_an_email_subaddress_of_the_service_address_names_the_campaign():
    own = "luukku@city.example.org"
    assert campaign.from_email(BOTH, ["Luukku+KEVAT@city.example.org"], own, date(2026, 4, 2)) == "KEVAT"
    assert campaign.from_email(BOTH, ["luukku@city.example.org"], own, date(2026, 4, 2)) is None
    assert campaign.from_email(BOTH, ["other+kevat@city.example.org"], own, date(2026, 4, 2)) is None
    assert campaign.from_email(BOTH, ["luukku+kevat@elsewhere.example.org"], own, date(2026, 4, 2)) is None


def test_the_cost_per_contact_waits_for_enough_contacts():
    assert campaign.cost_per_contact(150000, 30, 5) == 50.0
    assert campaign.cost_per_contact(150000, 3, 5) is None
    assert campaign.cost_per_contact(None, 30, 5) is None


def test_a_count_targets_pace_spreads_what_is_left_over_the_months_left():
    start, end = target.period_of(2026)
    gone = target.elapsed(start, end, date(2026, 7, 2))  # 182 of 365 days
    assert gone == pytest.approx(182 / 365)
    # 600 encounters a year, 250 so far: 350 over the 6.04 months left.
    assert target.pace("encounters", 600, 250, gone, 12) == pytest.approx(350 / (12 * (1 - 182 / 365)), abs=0.05)
    assert target.pace("encounters", 600, 700, gone, 12) == 0  # reached: nothing more needed
    assert target.pace("encounters", 600, 250, 1.0, 12) is None  # the year is over
    assert target.expected("encounters", 600, 0.5) == 300


def test_a_level_targets_pace_is_what_the_rest_must_hold():
    # 90 % for the year; 80 % in the first half: the second half needs 100 %.
    assert target.pace("promise_kept_share", 0.9, 0.8, 0.5, 12) == pytest.approx(1.0)
    # 4.0 for the year and 4.5 so far in the first quarter: 3.83 will do for the rest.
    assert target.pace("satisfaction", 4.0, 4.5, 0.25, 12) == pytest.approx((4.0 - 0.25 * 4.5) / 0.75, abs=0.001)
    assert target.pace("satisfaction", 4.0, None, 0.25, 12) == 4.0  # nothing yet to go on
    assert target.expected("promise_kept_share", 0.9, 0.3) == 0.9


def test_a_monthly_target_has_its_own_month_and_the_previous_year_is_the_same_stretch():
    assert target.period_of(2026, 12) == (date(2026, 12, 1), date(2027, 1, 1))
    assert target.a_year_earlier(date(2028, 2, 29)) == date(2027, 2, 28)
    assert target.a_year_earlier(date(2026, 11, 30)) == date(2025, 11, 30)


@pytest.mark.parametrize("measure, value", [("nonsense", 1), ("promise_kept_share", 90), ("satisfaction", 6),
                                            ("encounters", -1)])
def test_a_target_out_of_its_scale_is_refused(measure, value):
    with pytest.raises(target.TargetError):
        target.set_target(None, measure, 2026, value)
