"""The production server's configuration (`gunicorn.conf.py`): several workers need one
store for the rate limits, and the access log keeps no client address (issue #12,
items 2 and 7)."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from grievance.config import PROJECT_ROOT, ConfigError, Settings, check_server
from grievance.crypto.keyring import Keyring

CONFIG = PROJECT_ROOT / "gunicorn.conf.py"


def _production(settings: Settings, **changes: object) -> Settings:
    return replace(settings, env="production", **changes)  # type: ignore[arg-type]


def test_several_workers_with_memory_limits_are_refused_in_production(settings):
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI is memory:// with 4 workers"):
        check_server(_production(settings), 4)
    check_server(_production(settings), 1)
    check_server(_production(settings, ratelimit_storage_uri="redis://127.0.0.1:6379"), 4)


def test_development_only_warns(settings, caplog):
    check_server(replace(settings, env="development"), 3)
    assert "count per process" in caplog.text


def test_gunicorn_asks_at_start_up(settings, monkeypatch, tmp_path):
    config = runpy.run_path(str(CONFIG))
    keyring = tmp_path / "keyring.json"
    Keyring.generate().write(keyring)
    environment = {
        "GRIEVANCE_ENV": "production",
        "SECRET_KEY": "q7Vb2xKf9RmT4wLp0ZsNc8HjYe3UaGd6",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GRIEVANCE_KEYRING_FILE": str(keyring),
        "PUBLIC_BASE_URL": "https://complaints.example.org",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    server = SimpleNamespace(cfg=SimpleNamespace(workers=2))
    with pytest.raises(ConfigError, match="memory://"):
        config["on_starting"](server)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    config["on_starting"](server)


def test_the_access_log_format_has_no_client_address_agent_or_referrer():
    config = runpy.run_path(str(CONFIG))
    for atom in ("%(h)s", "%({x-forwarded-for}i)s", "%(a)s", "%(f)s", "%(u)s"):
        assert atom not in config["access_log_format"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gunicorn_serves_and_logs_no_client_address(tmp_path: Path):
    """The real server, with this configuration, on loopback: a request from 127.0.0.1
    leaves a log line without that address."""
    port = _free_port()
    environment = {
        **os.environ,
        "GRIEVANCE_ENV": "development",
        "GRIEVANCE_INSTANCE_PATH": str(tmp_path),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(  # noqa: S603
        [str(gunicorn), "--config", str(CONFIG), "wsgi:app"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/site.css") as r:
                    assert r.status == 200
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    lines = [line for line in output.splitlines() if "/static/site.css" in line]
    assert lines, output
    assert all("127.0.0.1" not in line for line in lines), lines
