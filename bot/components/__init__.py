"""Custom Rasa components."""
