"""Browser fixtures: the real app served on 127.0.0.1 (werkzeug, a thread, a SQLite file
with the demo data), Debian's Chromium driven by Playwright, and helpers that bring a
page to each state of the anonymous surface.

Never `playwright install`: the browser is Debian's (`apt-get install chromium`).
axe-core's script comes from the `axe-playwright-python` wheel and is injected into the
page by the tests only; the app itself never loads a third-party asset.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Response, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from grievance import MIGRATIONS, create_app
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.demo import load_demo
from grievance.extensions import LIMITERS, db
from grievance.http.context import service_context
from grievance.models import Channel, Mechanism, Stage
from grievance.services import cases, messages
from grievance.services.actors import Actor
from tests.factories import staff_case

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: axe-core, as bundled (minified) in the axe-playwright-python wheel.
AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
#: The WCAG 2.0, 2.1 and 2.2 rules at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

#: A message from the reviewers, already in the conversation of the followed case.
REVIEWER_MESSAGE = "আমরা কারখানার সাথে কথা বলছি।"
#: A statement a browser test files (Bengali, as a worker in Gazipur would write it).
STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি। Line 9, since January."
RECEIPT_CODE = re.compile(r"^\d{4} \d{4} \d{4} \d{4}$")
REFERENCE = re.compile(r"\b(?:TEX|NST)-\d{4}-\d{5}\b")

#: Every state of the anonymous surface the suite looks at.
STATES = (
    "index",
    "complaint",
    "complaint-errors",
    "receipt",
    "follow-up",
    "follow-up-failed",
    "case",
    "procedure",
)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask
    #: The receipt code (16 digits) of a case with a reviewer's message in it.
    code: str
    reference: str


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Not one line per request: a failing test's output stays readable."""


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("browser")
    settings = Settings(
        env="test",
        secret_key="browser-test-secret-key-of-at-least-32-characters",
        database_url=f"sqlite:///{instance / 'browser.sqlite3'}",
        public_base_url="http://127.0.0.1",
        instance_path=instance,
        kdf=TEST_KDF,
    )
    app = create_app(settings, keyring=Keyring.generate())  # a real clock
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        ctx = service_context()
        load_demo(ctx)
        tex = ctx.session.scalars(select(Mechanism).where(Mechanism.code == "TEX")).one()
        filed, lead, _second = staff_case(ctx, mechanism=tex)
        case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
        messages.add_message(
            ctx, case, Actor.for_user(lead), REVIEWER_MESSAGE, Channel.WEB, filed.complainant
        )
        db.session.commit()
        code, reference = filed.receipt_code, case.reference
        db.session.remove()
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, code, reference)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(live_server: LiveServer) -> Iterator[None]:
    """Each test starts with no attempt counted (the suite files many complaints)."""
    _reset_limits()
    yield
    _reset_limits()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium "
            "(never `playwright install`)"
        )
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[NewContext]:
    """Fresh browser contexts (no cookies, no cache), closed after the test."""
    opened: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("base_url", live_server.url)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context: NewContext) -> Page:
    return new_context().new_page()


# -- bringing a page to a state ----------------------------------------------------------


def status(response: Response | None) -> int:
    """The HTTP status of a navigation (there must have been one)."""
    assert response is not None, "no navigation"
    return response.status


def goto(page: Page, url: str) -> int:
    return status(page.goto(url))


def submit(page: Page, action: str) -> int:
    """Press the submit button of the form posting to `action`; the page's status."""
    with page.expect_navigation() as navigation:
        page.locator(f'form[action="{action}"] button[type="submit"]').click()
    return status(navigation.value)


def fill_complaint(page: Page, statement: str) -> None:
    """The least a complaint needs (where, and what happened) and one more answer."""
    page.check('input[name="mechanism"][value="TEX"]')
    if statement:
        page.fill("#statement", statement)
    page.select_option("#country", "BD")


@dataclass
class Filed:
    code: str
    reference: str


def file_complaint(page: Page, lang: str = "en", statement: str = STATEMENT) -> Filed:
    """File a complaint through the form; the page ends on the receipt."""
    page.goto(f"/complaint?lang={lang}")
    fill_complaint(page, statement)
    assert submit(page, "/complaint") == 200
    code = page.locator(".receipt-code").inner_text().strip()
    found = REFERENCE.search(page.locator("main").inner_text())
    assert found, "no case reference on the receipt page"
    return Filed(code=code, reference=found.group(0))


def sign_in(page: Page, code: str, lang: str = "en") -> int:
    page.goto(f"/follow-up?lang={lang}")
    page.fill("#code", code)
    return submit(page, "/follow-up")


def visit(
    page: Page,
    server: LiveServer,
    state: str,
    lang: str,
    *,
    before_last: Callable[[], None] | None = None,
) -> None:
    """Bring `page` to `state` in `lang`. `before_last` runs just before the navigation
    that loads the page itself (after the form it posts, say)."""
    last = before_last or (lambda: None)
    if state in ("index", "complaint", "follow-up", "procedure"):
        path = {
            "index": "/",
            "complaint": "/complaint",
            "follow-up": "/follow-up",
            "procedure": "/procedure/TEX",
        }[state]
        last()
        assert goto(page, f"{path}?lang={lang}") == 200
    elif state == "complaint-errors":
        page.goto(f"/complaint?lang={lang}")
        fill_complaint(page, "")
        last()
        assert submit(page, "/complaint") == 422
    elif state == "receipt":
        page.goto(f"/complaint?lang={lang}")
        fill_complaint(page, STATEMENT)
        last()
        assert submit(page, "/complaint") == 200
        assert RECEIPT_CODE.match(page.locator(".receipt-code").inner_text().strip())
    elif state == "follow-up-failed":
        page.goto(f"/follow-up?lang={lang}")
        page.fill("#code", "0000 0000 0000 0000")
        last()
        assert submit(page, "/follow-up") == 401
    elif state == "case":
        assert sign_in(page, server.code, lang) == 200
        last()
        assert goto(page, f"/follow-up/case?lang={lang}") == 200
        assert server.reference in page.locator("h1").inner_text()
    else:  # pragma: no cover - a typo in a test
        raise ValueError(state)
    assert page.locator("html").get_attribute("lang") == lang


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Traffic:
    """What a page asks for and receives, from `start()` on."""

    page: Page
    requests: list[str] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    recording: bool = True

    def __post_init__(self) -> None:
        self.page.on("request", lambda request: self._add(self.requests, request.url))
        self.page.on("response", lambda response: self._add(self.responses, response))
        self.page.on(
            "console",
            lambda message: (
                self._add(self.console_errors, message.text) if message.type == "error" else None
            ),
        )

    def _add(self, into: list[Any], item: Any) -> None:
        if self.recording:
            into.append(item)

    def start(self) -> None:
        self.requests.clear()
        self.responses.clear()
        self.console_errors.clear()
        self.recording = True

    def body_sizes(self) -> dict[str, int]:
        """Bytes of every response body, by URL (a redirect's from its headers; a body
        the browser no longer holds, such as the icon it fetches beside the page after
        the next navigation began, from the size it received)."""
        sizes: dict[str, int] = {}
        for response in self.responses:
            if 300 <= response.status < 400:
                size = response.request.sizes()["responseBodySize"]
            else:
                try:
                    size = len(response.body())
                except PlaywrightError:
                    size = response.request.sizes()["responseBodySize"]
            key = f"{response.request.method} {response.url}"
            sizes[key] = sizes.get(key, 0) + size
        return sizes


def without_cache(page: Page) -> None:
    """Every subresource is fetched again on every page (as on a first visit)."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send("Network.setCacheDisabled", {"cacheDisabled": True})


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of the WCAG A and AA rules on the page as it is now."""
    page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    result: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def _reset_limits() -> None:
    for limiter in LIMITERS:
        limiter.reset()
