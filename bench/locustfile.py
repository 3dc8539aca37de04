"""The load of `make bench` (bench/run.py runs `locust --headless` once a path): BENCH_PATH
names the path, BENCH_COOKIE the signed-in session for staff pages, BENCH_CODE a valid
receipt code, BENCH_REFERENCE a published case. Each request comes "through the reverse
proxy" with an address of its own (X-Forwarded-For), as in production, so the rate
limits count per client as they would, and over HTTPS (X-Forwarded-Proto)."""

from __future__ import annotations

import os
import random
import re
from typing import Any

from locust import HttpUser, constant, task

PATH = os.environ.get("BENCH_PATH", "floor")
#: get (BENCH_URL), post_complaint, post_api_complaints, followup_valid, followup_wrong
KIND = os.environ.get("BENCH_KIND", "get")
COOKIE = os.environ.get("BENCH_COOKIE", "")
CODE = os.environ.get("BENCH_CODE", "")
REFERENCE = os.environ.get("BENCH_REFERENCE", "")
URL = os.environ.get("BENCH_URL", "")
STATEMENT = "Wages unpaid for three months on sewing line 4; overtime never paid."
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_RADIO = re.compile(r'<input[^>]*type="radio"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')


def _form(page: str) -> dict[str, str]:
    """The hidden fields of the complaint form and the first choice of each radio group."""
    data: dict[str, str] = {}
    for found in _HIDDEN.findall(page):
        attrs = dict(_ATTR.findall(found))
        if "name" in attrs:
            data[attrs["name"]] = attrs.get("value", "")
    for found in _RADIO.findall(page):
        attrs = dict(_ATTR.findall(found))
        data.setdefault(attrs.get("name", ""), attrs.get("value", ""))
    data.pop("", None)
    data["statement"] = STATEMENT
    return data


class Client(HttpUser):
    wait_time = constant(0)

    def _headers(self, **extra: str) -> dict[str, str]:
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https", **extra}
        if COOKIE:
            headers["Cookie"] = COOKIE
        return headers

    @task
    def load(self) -> None:
        getattr(self, "_" + KIND)()

    def _get(self) -> None:
        self.client.get(URL, headers=self._headers(), name=PATH)

    def _post_complaint(self) -> None:
        form = self.client.get(
            "/complaint", headers=self._headers(), name="(the form, not counted)"
        )
        # The cookies are Secure: kept by hand, as a browser on HTTPS would send them.
        cookie = "; ".join(f"{name}={value}" for name, value in form.cookies.items())
        referer = f"https://{self.host.split('://', 1)[1]}/complaint"
        with self.client.post(
            "/complaint",
            data=_form(form.text),
            headers=self._headers(Referer=referer, Cookie=cookie),
            name=PATH,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 303:
                response.success()
            else:
                response.failure(f"{response.status_code}, not 303")

    def _post_api_complaints(self) -> None:
        body: dict[str, Any] = {"mechanism": "SYN01", "language": "en", "statement": STATEMENT}
        self.client.post("/api/v1/complaints", json=body, headers=self._headers(), name=PATH)

    def _followup_valid(self) -> None:
        self._followup(CODE, 200)

    def _followup_wrong(self) -> None:
        self._followup("A" * len(CODE) if CODE else "AAAA-AAAA-AAAA-AAAA", 404)

    def _followup(self, code: str, expected: int) -> None:
        with self.client.post(
            "/api/v1/followup",
            json={"receipt_code": code},
            headers=self._headers(),
            name=PATH,
            catch_response=True,
        ) as response:
            if response.status_code == expected:
                response.success()
            else:
                response.failure(f"{response.status_code}, not {expected}")
