# Luukku: `make run` and `make test` do all set-up on first use.
SHELL := /bin/bash
export PATH := $(CURDIR)/bin:$(PATH)

.PHONY: setup run test test-fast fuzz evaluate bench-nlu bench-impact bench-abuse clean

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

test-fast: setup
	@.venv/bin/python -m pytest -q -m "not stack and not browser"

# Generated requests against every operation of the OpenAPI document (positive and negative, every check) and
# property tests over the channel parsers; FUZZ_EXAMPLES per operation and property (make test runs 25).
FUZZ_EXAMPLES ?= 800
fuzz: setup
	@FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) .venv/bin/python -m pytest -q -m fuzz -k "not postgres" tests/fuzz

evaluate: setup
	@scripts/evaluate.sh

bench-nlu: setup
	@.venv/bin/python -m bench.nlu

clean:
	rm -rf var models .rasa results .pytest_cache

bench-impact: setup
	@.venv/bin/python -m bench.impact

bench-abuse: setup
	@.venv/bin/python -m bench.abuse
