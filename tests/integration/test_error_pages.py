"""Our own error pages (grievance/http/errors.py): in the reader's language and direction,
with the language links, saying what to do, with nothing of the request in them; JSON for
the partner API and the health check."""

from __future__ import annotations

import re

import pytest
from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grievance import LOCALES
from grievance.policies import default_policy
from tests.factories import make_mechanism

LANGUAGES = list(default_policy().languages)
#: Each status's heading, as the template writes it in English.
HEADINGS = {
    400: "Something went wrong with this page",
    404: "We cannot find this page",
    405: "This page cannot be used like this",
    413: "The files are too large",
    429: "Too many tries",
    500: "Something went wrong on our side",
}
#: Werkzeug's own English pages, which must never come back.
WERKZEUG = ("Not Found", "Bad Request", "Method Not Allowed", "Too Many Requests")


def _heading(code: int, lang: str) -> str:
    return Translations.load(str(LOCALES), [lang]).gettext(HEADINGS[code])


def _check_page(response: TestResponse, code: int, lang: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert response.mimetype == "text/html"
    direction = "rtl" if lang in ("ar", "ur") else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert f"<h1>{_heading(code, lang)}</h1>" in page
    assert 'hreflang="bn"' in page  # the language links of base.html
    assert 'href="/"' in page  # a way on
    for english in WERKZEUG:
        assert english not in page
    if lang != "en":
        assert HEADINGS[code] not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    return page


@pytest.fixture
def client(app: Flask, session) -> FlaskClient:
    return app.test_client()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_unknown_page_is_ours_in_every_language(client: FlaskClient, lang: str) -> None:
    _check_page(client.get(f"/procedure/NOPE?lang={lang}"), 404, lang)


@pytest.mark.parametrize("path", ["/no-such-page", "/static/nothing.css", "/complaint/x"])
def test_any_unknown_address_gets_our_page(client: FlaskClient, path: str) -> None:
    client.set_cookie("lang", "ur")  # the language chosen before
    _check_page(client.get(path), 404, "ur")


@pytest.mark.parametrize(
    "code",
    ["T\x00X", "\x00", "TEX\x00", "TOOLONGCODE", "T-X", "TE X", "ТЕХ"],  # the last in Cyrillic
)
def test_a_code_that_is_no_mechanism_code_is_not_found_before_any_query(
    client: FlaskClient, ctx, code: str
) -> None:
    """PostgreSQL text cannot hold U+0000: this was a psycopg DataError, a 500."""
    make_mechanism(ctx, "TEX")
    _check_page(client.get(f"/procedure/{code}?lang=bn"), 404, "bn")


def test_a_mechanism_code_is_still_found_in_any_case(client: FlaskClient, ctx) -> None:
    make_mechanism(ctx, "T01")
    assert client.get("/procedure/t01").status_code == 200


def test_a_wrong_method_gets_our_page_and_the_allowed_methods(client: FlaskClient) -> None:
    response = client.delete("/complaint?lang=nl")
    _check_page(response, 405, "nl")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_bad_request_gets_our_page(client: FlaskClient) -> None:
    """Signing out of the follow-up without the form's token (the cookie was gone)."""
    _check_page(client.post("/follow-up/sign-out?lang=am"), 400, "am")


def test_a_rate_limit_gets_our_page(client: FlaskClient) -> None:
    page = client.get("/follow-up").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    data = {"csrf_token": token.group(1), "code": "1" * 16}
    assert [client.post("/follow-up", data=data).status_code for _ in range(10)] == [401] * 10
    response = client.post("/follow-up?lang=ta", data=data)
    _check_page(response, 429, "ta")
    assert response.headers["Retry-After"]


def test_files_too_large_get_our_page(app: Flask, client: FlaskClient, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/complaint?lang=sw", data={"statement": "x" * 2000})
    _check_page(response, 413, "sw")


SECRET = "+8801711000001 Rahela Khatun"


def _crash(*_args, **_kwargs):
    raise RuntimeError(f"could not handle {SECRET}")


def test_a_crash_gets_our_page_without_its_details(
    app: Flask, client: FlaskClient, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    monkeypatch.setitem(app.view_functions, "public.index", _crash)
    page = _check_page(client.get("/?lang=ar"), 500, "ar")
    for detail in ("RuntimeError", "could not handle", "+8801711000001", "Rahela", "Traceback"):
        assert detail not in page


def test_an_error_page_shows_nothing_of_the_request(client: FlaskClient) -> None:
    response = client.get(
        "/procedure/RAHELA8801711?name=Rahela&phone=%2B8801711000001&lang=bn",
        headers={"Referer": "http://example.org/Rahela", "User-Agent": "Rahela-phone"},
    )
    page = _check_page(response, 404, "bn")
    for value in ("RAHELA", "Rahela", "8801711", "example.org", "procedure"):
        assert value not in page


# -- programs get JSON ------------------------------------------------------------------------


def _api_error(response: TestResponse, code: int) -> None:
    assert response.status_code == code
    assert response.mimetype == "application/json"
    errors = response.get_json()["errors"]
    assert [error["path"] for error in errors] == [""]
    assert all(error["message"].strip() for error in errors)


def test_the_api_answers_json_for_an_unknown_operation(client: FlaskClient) -> None:
    _api_error(client.post("/api/v1/nothing-here", json={}), 404)
    _api_error(client.get("/api/v2/complaints"), 404)


def test_the_api_answers_json_for_a_wrong_method(client: FlaskClient) -> None:
    response = client.get("/api/v1/complaints")
    _api_error(response, 405)
    assert "POST" in response.headers["Allow"].split(", ")


def test_the_api_answers_json_for_a_body_too_large(
    app: Flask, client: FlaskClient, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    body = {"mechanism": "TEX", "language": "bn", "statement": "x" * 2000}
    _api_error(client.post("/api/v1/complaints", json=body), 413)


def test_the_api_answers_json_for_a_crash(app: Flask, client: FlaskClient, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "api.followup", _crash)
    response = client.post("/api/v1/followup", json={"receipt_code": "1" * 16})
    _api_error(response, 500)
    assert "could not handle" not in response.get_data(as_text=True)


def test_the_api_keeps_its_own_refusals_and_rate_limit(client: FlaskClient) -> None:
    response = client.post("/api/v1/followup", data="{", content_type="application/json")
    _api_error(response, 400)
    assert response.get_json()["errors"][0]["message"] == "The body is not valid JSON."
    for _ in range(10):
        client.post("/api/v1/followup", json={"receipt_code": "9" * 16})
    limited = client.post("/api/v1/followup", json={"receipt_code": "9" * 16})
    _api_error(limited, 429)
    assert limited.get_json()["errors"][0]["message"] == "Too many requests; try again later."


def test_the_health_check_keeps_json(app: Flask, client: FlaskClient, monkeypatch) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "up"}
    wrong = client.post("/healthz")
    assert wrong.status_code == 405
    assert wrong.get_json() == {"status": "error"}
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "health.healthz", _crash)
    crashed = client.get("/healthz")
    assert crashed.status_code == 500
    assert crashed.get_json() == {"status": "error"}


def test_the_error_page_links_stay_on_this_site(client: FlaskClient) -> None:
    page = client.get("/nowhere?lang=zh").get_data(as_text=True)
    for url in re.findall(r'(?:href|src|action)="([^"]*)"', page):
        assert not re.match(r"^\s*(https?:)?//", url), url
