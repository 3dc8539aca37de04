"""What an operator's tooling reads: liveness and readiness on each surface, and log
lines as JSON for a collector (issue #17, item 3)."""

from __future__ import annotations

import json
import logging

import pytest

from grievance.config import ConfigError, Settings
from grievance.http.logs import JsonLines


@pytest.mark.parametrize("prefix", ["", "/staff"])
def test_liveness_and_readiness_on_each_surface(app, session, prefix):
    client = app.test_client()
    assert client.get(f"{prefix}/livez").get_json() == {"status": "ok"}
    ready = client.get(f"{prefix}/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "up"}
    assert client.get(f"{prefix}/healthz").get_json() == ready.get_json()


def test_readiness_fails_without_the_database_while_liveness_holds(app, session, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(session, "execute", broken)
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    assert client.get("/readyz").get_json() == {"status": "unavailable", "database": "down"}
    assert client.get("/livez").status_code == 200


def test_json_log_lines():
    record = logging.LogRecord(
        "grievance.audit", logging.WARNING, __file__, 1, "case %s", ("X",), None
    )
    line = JsonLines().format(record)
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "grievance.audit"
    assert entry["message"] == "case X"
    assert entry["time"].endswith("+00:00")
    assert "\n" not in line
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonLines().format(failed))
    assert entry["exception"] == "ValueError"
    assert "Traceback" in entry["traceback"]


def test_log_format_is_read_and_checked(tmp_path):
    base = {"GRIEVANCE_ENV": "development", "GRIEVANCE_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(base).log_format == "text"
    assert Settings.from_env({**base, "LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        Settings.from_env({**base, "LOG_FORMAT": "xml"})
