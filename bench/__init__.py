"""Benchmarks (`make bench-…`): figures are recorded in docs/, never asserted in timed tests."""
