"""Casework: cases, routing, the promise, the directory, surveys."""
