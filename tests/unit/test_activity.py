"""Finnish business IDs (Y-tunnus): the check digit decides."""
import pytest

from router.plan.activity import business_id


@pytest.mark.parametrize("given, expected", [
    ("0112038-9", "0112038-9"),  # the check digit from the weights 7, 9, 10, 5, 8, 4, 2
    ("1234567-1", "1234567-1"),
    (" 1572860-0 ", "1572860-0"),
    ("737546-2", "0737546-2"),  # an old six-digit ID gets its leading zero
    ("0112038-8", None), ("1234567-2", None), ("12345678", None), ("", None), (None, None), ("abc-d", None),
])
def test_the_check_digit_decides(given, expected):
    assert business_id(given) == expected


def test_a_remainder_of_one_is_never_a_valid_id():
    # 0000006: 6 × 2 = 12, remainder 1: no check digit makes it valid. 0000001: 1 × 2 = 2 → 11 − 2 = 9.
    assert all(business_id(f"0000006-{d}") is None for d in range(10))
    assert business_id("0000001-9") == "0000001-9"
