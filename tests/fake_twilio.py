"""A stand-in for Twilio's REST API on loopback, reached by the real `twilio` Client.

It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio does (201 and
a message resource), records every request's form fields, checks HTTP basic auth, and
can be told to fail the next requests (`fail_next(status, code)`) or to stall
(`stall_next(seconds)`, for timeouts). Also a command-line demo stand-in:

    python -m tests.fake_twilio 8765      # prints every message it receives
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"


@dataclass
class Received:
    path: str
    form: dict[str, str]
    account_sid: str
    sid: str


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    received: list[Received] = field(default_factory=list)
    _failures: list[tuple[int, int | None]] = field(default_factory=list)
    _stalls: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    echo: bool = False

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, code)] * times)

    def stall_next(self, seconds: float) -> None:
        with self._lock:
            self._stalls.append(seconds)

    @property
    def messages(self) -> list[dict[str, str]]:
        """The form fields of every message accepted (failed requests are not in it)."""
        with self._lock:
            return [item.form for item in self.received if item.sid]

    def handle(self, path: str, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if auth != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if path != prefix:
            return 404, {"code": 20404, "message": "Not found", "status": 404}
        form = {key: values[-1] for key, values in parse_qs(body.decode(), True).items()}
        with self._lock:
            stall = self._stalls.pop(0) if self._stalls else 0.0
            failure = self._failures.pop(0) if self._failures else None
        if stall:
            time.sleep(stall)
        if failure is not None:
            status, code = failure
            with self._lock:
                self.received.append(Received(path, form, self.account_sid, ""))
            return status, {
                "code": code,
                "message": "fake failure",
                "more_info": "https://www.twilio.com/docs/errors",
                "status": status,
            }
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self.received.append(Received(path, form, self.account_sid, sid))
        if self.echo:
            print(f"--> {form.get('To')}: {form.get('Body')}", flush=True)  # noqa: T201
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Fri, 04 Dec 2026 12:00:00 +0000",
            "uri": f"{prefix[:-5]}/{sid}.json",
        }


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status, payload = fake.handle(self.path, self.headers.get("Authorization"), body)
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(fake: FakeTwilio | None = None, port: int = 0) -> Iterator[FakeTwilio]:
    fake = fake or FakeTwilio()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    with serve(FakeTwilio(echo=True), port) as running:
        print(f"fake Twilio on {running.base_url} (account {ACCOUNT_SID})", flush=True)  # noqa: T201
        threading.Event().wait()
