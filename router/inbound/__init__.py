"""The inbound path: a stored message goes to its case, a survey, or the bot."""
