"""Fuzzing budget: FUZZ_EXAMPLES per operation or property (make fuzz raises it; CI runs a small, seed-fixed one)."""
from __future__ import annotations

import os
from collections import Counter

import pytest

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
COUNTS: Counter = Counter()


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        total = sum(v for k, v in COUNTS.items() if k.startswith("cases:"))
        terminalreporter.write_line(
            f"fuzz: {total} generated cases ({', '.join(f'{k[6:]} {v}' for k, v in sorted(COUNTS.items()) if k.startswith('cases:'))}); "
            f"server errors {COUNTS['server_errors']}, invalid requests accepted {COUNTS['invalid_accepted']}")


@pytest.fixture
def counts():
    return COUNTS
