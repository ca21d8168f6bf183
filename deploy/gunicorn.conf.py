"""Gunicorn for the router in production and in `make topology`: several processes behind one port.

WEB_PROCESSES processes × WEB_THREADS threads: a web chat turn holds its thread while Rasa answers (up to
RASA_TIMEOUT), so threads, not cores, bound how many customers can wait at once.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
workers = int(os.environ.get("WEB_PROCESSES", "3"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "32"))
# A turn may wait RASA_TIMEOUT for Rasa; a request is never killed before that.
timeout = 60
graceful_timeout = 10  # SIGTERM: requests in flight get this long, then the process goes
keepalive = 5
accesslog = None  # the router logs requests itself, without personal data
errorlog = "-"
