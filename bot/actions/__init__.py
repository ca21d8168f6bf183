"""Luukku's custom actions: thin, they ask the router and say what it answers."""
