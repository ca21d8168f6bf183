"""Measuring how well the bot routes: shared by `make evaluate` (bot environment) and the CI check (router's)."""
