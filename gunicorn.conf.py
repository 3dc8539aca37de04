"""gunicorn's configuration (`gunicorn wsgi:app`, or `wsgi:intake_app` / `wsgi:staff_app`
for one surface a host), read from this folder. Settings come from the environment as
everywhere (`grievance/config.py`); the server's own are below.

The access log records no client address, no user agent and no referrer: on the intake
surface an address could name a complainant (ASVS 7.1.2). Paths carry no identifying
data (receipt codes and texts are never in a URL).
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("BIND", "127.0.0.1:8000")
#: Sync workers: each request is short and CPU-bound (Argon2id, rendering).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
#: Uploads are held in memory (`grievance.http.requests`): bound what a worker may hold
#: by recycling it now and then.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
#: The reverse proxy in front sets X-Forwarded-For; the app reads it (TRUSTED_PROXY_HOPS),
#: gunicorn need not.
forwarded_allow_ips = "127.0.0.1"


def on_starting(server: Any) -> None:
    """Refuse to start a configuration that would count rate limits apart per worker."""
    from grievance.config import Settings, check_server

    check_server(Settings.from_env(), server.cfg.workers)
