# Luukku: `make run` and `make test` do all set-up on first use.
SHELL := /bin/bash
export PATH := $(CURDIR)/bin:$(PATH)

.PHONY: setup run test test-fast lint messages fuzz evaluate bench-nlu bench-sib200 bench-impact bench-abuse bench-load bench-overhead topology chaos clean

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

# Style (ruff), types (mypy) and the layers (import-linter); make test runs it first.
lint: setup
	@scripts/lint.sh

# New message ids from code and templates into router/locale/{fi,sv,en} (untranslated until someone words them;
# tests/unit/test_catalogue.py fails until then).
messages: setup
	@.venv/bin/python scripts/messages.py

test-fast: setup
	@.venv/bin/python -m pytest -q -m "not stack and not browser and not chaos"

# Generated requests against every operation of the OpenAPI document (positive and negative, every check) and
# property tests over the channel parsers and hostile ids, on SQLite and PostgreSQL; FUZZ_EXAMPLES per operation and
# property (make test runs 25).
FUZZ_EXAMPLES ?= 800
fuzz: setup
	@FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) .venv/bin/python -m pytest -q -m fuzz tests/fuzz

evaluate: setup
	@scripts/evaluate.sh

bench-nlu: setup
	@.venv/bin/python -m bench.nlu

# The NLU pipeline on the public SIB-200 topic benchmark (fi, sv, en; SIB200_DIR); reports/sib200.json.
bench-sib200: setup
	@.venv-bot/bin/python -m bench.sib200

clean:
	rm -rf var models .rasa results .pytest_cache

bench-impact: setup
	@.venv/bin/python -m bench.impact

bench-abuse: setup
	@.venv/bin/python -m bench.abuse

# The production topology (3 web processes, internal API, 2 workers, 2 Rasa replicas on a PostgreSQL tracker store
# with Redis locks, the action server) as local processes under scripts/supervise.py.
topology: setup
	@.venv/bin/python -m bench.topology

# Faults injected into that topology while customers use it; a table of inputs, lost, duplicated, errors and
# recovery. CHAOS_CUSTOMERS per experiment (make test runs a short version).
CHAOS_CUSTOMERS ?= 10
chaos: setup
	@CHAOS_CUSTOMERS=$(CHAOS_CUSTOMERS) .venv/bin/python -m bench.chaos

# Concurrent whole conversations (web and SMS) against the topology with one Rasa replica, and bare Rasa side by side.
bench-load: setup
	@.venv/bin/python -m bench.load

# What the router adds to a turn, this tree against BENCH_BASELINE (default HEAD) and bare Rasa, side by side.
bench-overhead: setup
	@.venv/bin/python -m bench.overhead
