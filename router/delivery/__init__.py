"""Delivery: the outbox, its senders, and notifications."""
