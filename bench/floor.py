"""The floor of `make bench`: a bare one-route Flask app, served by the same gunicorn
configuration as the app (`gunicorn -c gunicorn.conf.py --chdir bench floor:app`). What
the framework and the server cost by themselves; every path is compared with it."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "ok"
