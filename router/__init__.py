"""Luukku router: the one front door's web app, worker and command line."""
from router.app import create_app

__all__ = ["create_app"]
