"""Benchmark of the Twilio webhook: server time and throughput under concurrent signed
requests, beside a bare Flask endpoint on the same server.

    make bench                                        # SQLite in a temporary directory
    DATABASE_URL=postgresql+psycopg://…/…bench… .venv/bin/python bench/sms_webhook.py

The app runs under werkzeug's threaded WSGI server in this process; the load comes from
separate client processes over keep-alive HTTP/1.1 connections, every request signed
(RequestValidator.compute_signature) beforehand with its own MessageSid. Server time is
measured around the WSGI call; throughput is requests per second of wall time. The goal
(issue 4): p95 under 50 ms, and at least a quarter of the bare endpoint's throughput.
Override with BENCH_REQUESTS=3000 and BENCH_CONCURRENCY=8.
"""

from __future__ import annotations

import http.client
import logging
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from common import bench_app
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from grievance.clock import SystemClock
from grievance.extensions import db
from grievance.models import InboundSms

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
CLIENT_PROCESSES = 2


class Timed:
    """WSGI middleware: the server time of every request, in seconds."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        body = list(self.app(environ, start_response))
        elapsed = time.perf_counter() - started
        with self.lock:
            self.times.append(elapsed)
        return body


def _signed_bodies(base: str, path: str, start: int, count: int) -> list[tuple[bytes, str]]:
    validator = RequestValidator(AUTH_TOKEN)
    bodies = []
    for n in range(start, start + count):
        params = {
            "MessageSid": f"SM{n:032x}",
            "SmsSid": f"SM{n:032x}",
            "AccountSid": ACCOUNT_SID,
            "From": f"+88017{n % 100000:08d}",
            "To": "+3197010000000",
            "Body": "আমাকে তিন মাস ধরে বেতন দেওয়া হয়নি",
            "NumSegments": "1",
            "NumMedia": "0",
            "FromCountry": "BD",
            "ApiVersion": "2010-04-01",
        }
        signature = validator.compute_signature(base + path, params)
        bodies.append((urlencode(params).encode(), signature))
    return bodies


def _client(port: int, path: str, bodies: list[tuple[bytes, str]], threads: int) -> int:
    """One client process: `threads` keep-alive connections sharing the bodies."""
    failures = [0]
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]

    def run(chunk: list[tuple[bytes, str]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for body, signature in chunk:
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                    "Host": "localhost",
                },
            )
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                with lock:
                    failures[0] += 1
        connection.close()

    workers = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return failures[0]


def _load(app: Flask, path: str, offset: int) -> tuple[list[float], float, int]:
    timed = Timed(app.wsgi_app)
    app.wsgi_app = timed  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    per_process = REQUESTS // CLIENT_PROCESSES
    jobs = [
        _signed_bodies("http://localhost", path, offset + i * per_process, per_process)
        for i in range(CLIENT_PROCESSES)
    ]
    threads = max(1, CONCURRENCY // CLIENT_PROCESSES)
    context = multiprocessing.get_context("fork")
    with context.Pool(CLIENT_PROCESSES) as pool:
        started = time.perf_counter()
        failures = sum(pool.starmap(_client, [(port, path, job, threads) for job in jobs]))
        wall = time.perf_counter() - started
    server.shutdown()
    app.wsgi_app = timed.app  # type: ignore[method-assign]
    return timed.times, per_process * CLIENT_PROCESSES / wall, failures


def _report(name: str, times: list[float], throughput: float, failures: int) -> None:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[int(len(ms) * 0.95) - 1]
    p99 = ms[int(len(ms) * 0.99) - 1]
    print(
        f"{name:<22} {len(ms):>6} requests  server time p50 {statistics.median(ms):6.2f} ms"
        f"  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms  throughput {throughput:7.0f}/s"
        f"  failures {failures}"
    )


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = bench_app(SystemClock(), twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN)
    bare = Flask("bare")

    @bare.post("/bare")
    def bare_endpoint() -> tuple[str, int, dict[str, str]]:
        return "<Response/>", 200, {"Content-Type": "application/xml"}

    with app.app_context():
        database = db.engine.dialect.name
    print(
        f"Twilio webhook on {database}, {REQUESTS} signed requests, {CONCURRENCY} connections "
        f"from {CLIENT_PROCESSES} client processes, werkzeug threaded server"
    )
    _load(app, "/intake/sms/twilio", 10**9)  # warm-up: imports, connections, caches
    bare_times, bare_rate, bare_failures = _load(bare, "/bare", 0)
    times, rate, failures = _load(app, "/intake/sms/twilio", 0)
    _report("bare Flask endpoint", bare_times, bare_rate, bare_failures)
    _report("webhook (record, TwiML)", times, rate, failures)
    with app.app_context():
        recorded = db.session.scalar(select(func.count()).select_from(InboundSms))
    print(
        f"recorded {recorded} inbound messages (warm-up included); throughput ratio "
        f"{rate / bare_rate:.2f} of the bare endpoint (goal: at least 0.25)"
    )
    p95 = sorted(times)[int(len(times) * 0.95) - 1] * 1000
    print(f"goal p95 < 50 ms: {'met' if p95 < 50 else 'NOT met'} ({p95:.1f} ms)")


if __name__ == "__main__":
    main()
