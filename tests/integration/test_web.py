"""The public pages and the health check through the test client."""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from sqlalchemy.exc import OperationalError

from grievance import LOCALES, create_app
from grievance.app import staff_app_of
from grievance.config import PROJECT_ROOT, TEST_KDF, Settings
from grievance.extensions import db
from tests.factories import make_mechanism

# -- helpers --------------------------------------------------------------------------------


class _Links(HTMLParser):
    """Every URL a page makes the browser fetch or follow."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.html_attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.html_attrs = dict(attrs)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") and value is not None:
                self.urls.append(value)


def parse(body: str) -> _Links:
    parser = _Links()
    parser.feed(body)
    return parser


def other_settings(tmp_path: Path, database_url: str, **changes) -> Settings:
    values = {
        "env": "test",
        "secret_key": "another-test-secret-key-of-32-characters",
        "database_url": database_url,
        "public_base_url": "http://localhost",
        "instance_path": tmp_path,
        "kdf": TEST_KDF,
    }
    values.update(changes)
    return Settings(**values)


# -- health -----------------------------------------------------------------------------------


def test_healthz_is_ok_with_the_database_up(app, session):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path, keyring, clock, caplog):
    url = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/unreachable"
    down = create_app(other_settings(tmp_path, url), clock=clock, keyring=keyring)
    try:
        with caplog.at_level(logging.ERROR, logger="grievance.http.health"):
            response = down.test_client().get("/healthz")
    finally:
        with down.app_context():
            db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "down"}
    body = response.get_data(as_text=True)
    for detail in ("hunter2", "127.0.0.1", "psycopg", "Operational", "unreachable", "refused"):
        assert detail not in body
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "database unavailable (OperationalError)" in messages
    assert "hunter2" not in messages


def test_healthz_is_503_when_a_query_fails(app, session, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError(
            "SELECT 1", {}, Exception("server closed the connection at 10.0.0.5")
        )

    monkeypatch.setattr(session, "execute", broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "down"}
    body = response.get_data(as_text=True)
    assert "10.0.0.5" not in body
    assert "server closed" not in body
    assert response.headers["Cache-Control"] == "no-store"


# -- security headers -------------------------------------------------------------------------

PAGES = ["/", "/?lang=nl", "/healthz", "/no-such-page", "/static/site.css"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(app, session, path):
    response = app.test_client().get(path)
    response.close()  # the static file's handle
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert all(
        source in ("'self'", "'none'") for sources in directives.values() for source in sources
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    if path.startswith("/static/"):
        assert response.status_code == 200
        assert headers.get("Cache-Control") != "no-store"
    else:
        assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # served over http here


def test_https_deployment_sends_hsts_and_host_cookie(tmp_path, keyring, clock):
    secure = create_app(
        other_settings(
            tmp_path,
            f"sqlite:///{tmp_path / 'secure.sqlite3'}",
            public_base_url="https://complaints.example.org",
        ),
        clock=clock,
        keyring=keyring,
    )
    try:
        response = secure.test_client().get("/healthz")
    finally:
        with secure.app_context():
            db.engine.dispose()
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert secure.config["SESSION_COOKIE_NAME"] == "__Host-intake"
    assert staff_app_of(secure).config["SESSION_COOKIE_NAME"] == "__Host-staff"


# -- the front page ---------------------------------------------------------------------------


def test_front_page_lists_mechanisms(app, session, ctx):
    make_mechanism(ctx, "TEX")
    make_mechanism(ctx, "NST")
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "No mechanism has been set up yet." not in body
    assert "<strong>TEX</strong> TEX covenant mechanism" in body
    assert "<strong>NST</strong> NST covenant mechanism" in body
    assert body.index("NST covenant") < body.index("TEX covenant")  # by name


def test_front_page_without_mechanisms(app, session):
    body = app.test_client().get("/").get_data(as_text=True)
    assert "No mechanism has been set up yet." in body
    assert '<ul class="mechanisms">' not in body


def test_english_is_the_default(app, session):
    response = app.test_client().get("/")
    body = response.get_data(as_text=True)
    assert parse(body).html_attrs == {"lang": "en", "dir": "ltr"}
    assert "A safe place to complain about harm in supply chains" in body
    assert "Set-Cookie" not in response.headers


def test_lang_parameter_gives_dutch_and_sets_the_cookie(app, session):
    client = app.test_client()
    response = client.get("/?lang=nl")
    body = response.get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in body
    assert "Een veilige plek om te klagen over schade in productieketens" in body
    assert "<title>Klachtenmechanisme</title>" in body
    assert "Er is nog geen mechanisme ingericht." in body
    assert "A safe place to complain" not in body
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=nl;")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # a browser-session cookie: no trace of the pages left on the phone once it closes
    assert "Max-Age" not in cookie
    assert "Expires" not in cookie

    # The cookie keeps the choice, and is not set again.
    again = client.get("/")
    assert '<html lang="nl" dir="ltr">' in again.get_data(as_text=True)
    assert "Set-Cookie" not in again.headers


def test_lang_parameter_beats_cookie_and_accept_language(app, session):
    client = app.test_client()
    client.set_cookie("lang", "nl")
    body = client.get("/?lang=en", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in body
    body = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in body  # the new cookie


def test_cookie_beats_accept_language(app, session):
    client = app.test_client()
    client.set_cookie("lang", "nl")
    body = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in body


def test_unknown_language_is_ignored(app, session):
    response = app.test_client().get("/?lang=xx", headers={"Accept-Language": "nl-BE, nl;q=0.9"})
    assert '<html lang="nl" dir="ltr">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("accept", "lang"), [("ar", "ar"), ("ur-PK, en;q=0.5", "ur")])
def test_right_to_left_languages(app, session, accept, lang):
    body = app.test_client().get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="rtl">' in body


@pytest.mark.parametrize(
    ("accept", "lang"),
    [
        ("nl", "nl"),
        ("NL-be", "nl"),
        ("de-CH, nl-BE;q=0.7, en;q=0.5", "nl"),  # preference order, not exact matches first
        ("de, fr;q=0.8, en;q=0.9", "en"),
        ("fr;q=0, de", "en"),  # q=0: not acceptable
        ("de-CH, *;q=0.5", "en"),
        ("", "en"),
    ],
)
def test_accept_language_negotiation(app, session, accept, lang):
    body = app.test_client().get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert parse(body).html_attrs["lang"] == lang


def test_language_menu_names_each_language_in_itself(app, session):
    body = app.test_client().get("/").get_data(as_text=True)
    assert '<a href="?lang=bn" lang="bn" hreflang="bn">বাংলা</a>' in body
    assert 'hreflang="en" aria-current="true"' in body


@pytest.mark.parametrize("path", ["/", "/?lang=nl", "/?lang=ar"])
def test_page_references_no_third_party_host(app, session, ctx, path):
    make_mechanism(ctx, "TEX")
    body = app.test_client().get(path).get_data(as_text=True)
    urls = parse(body).urls
    assert urls  # the style sheet and the language links at least
    for url in urls:
        assert not re.match(r"^\s*(https?:)?//", url, re.IGNORECASE), url
    assert "http" not in " ".join(urls)
    assert not re.search(r"https?://", body)


# -- translations -------------------------------------------------------------------------------

CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/*.po"))


def test_there_are_catalogs():
    assert {path.parts[-3] for path in CATALOGS} >= {"en", "nl"}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_catalog_is_complete(path):
    with path.open("rb") as handle:
        catalog = read_po(handle)
    with (LOCALES / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue  # the header
        forms = message.string if isinstance(message.string, tuple | list) else [message.string]
        if not all(form and form.strip() for form in forms):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == []
    assert fuzzy == []
    assert not catalog.fuzzy
    missing = [message.id for message in template if message.id and message.id not in catalog]
    assert missing == []


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_catalog_placeholders_and_plural_forms_are_right(path):
    """Babel's checks: the same %(name)s placeholders as the English, and as many plural
    forms as the language has in CLDR."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    assert [(message.id, errors) for message, errors in catalog.check()] == []
    assert catalog.num_plurals == get_plural(path.parts[-3]).num_plurals


def test_every_string_in_the_code_and_templates_is_in_the_catalog_template():
    """A string added to a template or the code without `make extract` is untranslated."""
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT), method_map, options_map, keywords=keywords
        )
    }
    assert "Complaints mechanism" in found
    with (LOCALES / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    assert sorted(message for message in found if message not in template) == []


def test_database_errors_never_carry_statement_parameters(app, ctx):
    """A failed statement's message (logged by the worker) holds no value it was given."""
    import sqlalchemy as sa

    from grievance.extensions import db

    with app.app_context():
        try:
            ctx.session.execute(
                sa.text("SELECT * FROM no_such_table WHERE x = :secret"),
                {"secret": "+8801711000001"},
            )
        except sa.exc.DBAPIError as error:
            message = str(error)
        else:  # pragma: no cover
            raise AssertionError("the statement should fail")
        assert "+8801711000001" not in message
        assert db.engine.hide_parameters


def test_every_language_offered_has_a_catalog():
    from grievance.policies import default_policy

    have = {path.parts[-3] for path in CATALOGS}
    assert sorted(set(default_policy().languages) - have) == []


@pytest.mark.parametrize(
    ("lang", "direction", "words"),
    [
        ("bn", "ltr", "অভিযোগ করুন"),
        ("ur", "rtl", "شکایت"),
        ("zh", "ltr", "投诉"),
        ("am", "ltr", "ቅሬታ"),
    ],
)
def test_the_complaint_form_speaks_the_language(app, session, lang, direction, words):
    page = app.test_client().get(f"/complaint?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert words in page
    assert "Make a complaint" not in page


def test_the_favicon_is_ours_and_every_page_names_it(app, session):
    """/favicon.ico was a 404 on every page (issue #15, item 6)."""
    client = app.test_client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    icon.close()
    for path in ("/", "/complaint", "/follow-up", "/staff/sign-in"):
        page = client.get(path).get_data(as_text=True)
        found = re.search(r'<link rel="icon" href="([^"]+)"', page)
        assert found, path
        assert found.group(1).startswith(("/static/", "/staff/static/"))
        svg = client.get(found.group(1))
        assert svg.status_code == 200
        svg.close()
