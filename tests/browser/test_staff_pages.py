"""Every staff page of every role, in Debian's Chromium at 320 CSS pixels, with
JavaScript on and off: nothing scrolls sideways (WCAG 1.4.10, reflow) and axe-core finds
no violation of the WCAG 2.x A and AA rules. axe-core runs in a page with scripts; the
pages themselves need none, so with JavaScript off the same page is loaded, measured,
and then checked by axe in a context that runs scripts on the very same markup
(`page.set_content`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from grievance.demo import DEMO_PASSWORD
from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import Assignment, Case, CaseEvent, User
from grievance.models.case import ENDED_STAGES
from grievance.services import accounts
from tests.browser.conftest import (
    LiveServer,
    NewContext,
    axe_violations,
    describe_violations,
    submit,
)
from tests.browser.test_layout import WIDTHS

pytestmark = pytest.mark.browser

#: A demo account per role (grievance/demo/data.toml).
ACCOUNTS = {
    "admin": "sanne.kuipers@example.org",
    "secretariat": "joris.vandam@example.org",
    "reviewer": "selin.aydin@reviewers.example.org",
    "company": "lieke.brouwer@example.org",
}

#: The pages every signed-in staff member has.
EVERYONE = [
    "/staff",
    "/staff/account",
    "/staff/account/password",
    "/staff/account/second-factor",
    "/staff/account/notifications",
    "/staff/inbox",
]

#: The pages of each role; `{case}` is a case of the reviewer's, `{user}` a reviewer's account.
PAGES: dict[str, list[str]] = {
    "admin": [
        *EVERYONE,
        "/staff/admin/users",
        "/staff/admin/users?q=selin",
        "/staff/admin/users/new",
        "/staff/admin/users/{user}/profile",
        "/staff/admin/users/{user}/edit",
        "/staff/admin/api-clients",
        "/staff/admin/api-clients/new",
    ],
    "secretariat": [
        *EVERYONE,
        "/staff/secretariat/deadlines",
        "/staff/secretariat/unrouted",
        "/staff/record-complaint",
    ],
    "reviewer": [
        *EVERYONE,
        "/staff/reviewer/",
        "/staff/reviewer/{case}",
        "/staff/reviewer/{busiest}",
        "/staff/profile",
        "/staff/record-complaint",
    ],
    "company": EVERYONE,
}


@dataclass(frozen=True)
class SignedIn:
    storage: dict[str, Any]
    values: dict[str, str]


def _values(live_server: LiveServer) -> dict[str, str]:
    with live_server.app.app_context():
        session = db.session
        reviewer = session.scalars(select(User).where(User.email == ACCOUNTS["reviewer"])).one()
        reference = session.scalars(
            select(Case.reference)
            .join(Assignment, Assignment.case_id == Case.id)
            .where(Assignment.reviewer_id == reviewer.id, Assignment.ended_at.is_(None))
            .order_by(Case.id)
        ).first()
        assert reference is not None
        # the reviewer's open case with the longest log: the hardest to fit in two screens
        busiest = session.execute(
            select(Case.reference, func.count(CaseEvent.id))
            .join(Assignment, Assignment.case_id == Case.id)
            .join(CaseEvent, CaseEvent.case_id == Case.id)
            .where(
                Assignment.reviewer_id == reviewer.id,
                Assignment.ended_at.is_(None),
                Case.stage.not_in(sorted(ENDED_STAGES)),
            )
            .group_by(Case.reference)
            .order_by(func.count(CaseEvent.id).desc(), Case.reference)
        ).first()
        assert busiest is not None
        values = {
            "case": f"cases/{reference}",
            "busiest": f"cases/{busiest[0]}",
            "user": str(reviewer.id),
        }
        db.session.remove()
    return values


def _code(live_server: LiveServer, email: str) -> str:
    with live_server.app.app_context():
        ctx = service_context()
        user = accounts.find_user(ctx, email)
        assert user is not None
        secret = accounts.totp_secret(ctx, user)
        db.session.remove()
    assert secret is not None
    return accounts.totp_code(secret, accounts.totp_step(datetime.now(UTC)))


@pytest.fixture(scope="module")
def signed_in(browser: Any, live_server: LiveServer) -> dict[str, SignedIn]:
    """Each role's demo account signed in once (a code is good once), its cookies kept."""
    values = _values(live_server)
    kept = {}
    for role, email in ACCOUNTS.items():
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        page = context.new_page()
        page.goto("/staff/sign-in?lang=en")
        page.fill("input[type=email]", email)
        page.fill("input[type=password]", DEMO_PASSWORD)
        assert submit(page, "/staff/sign-in") == 200
        if page.locator("input[name=code]").count():
            page.fill("input[name=code]", _code(live_server, email))
            assert submit(page, "/staff/sign-in/code") == 200
        assert "/staff/sign-in" not in page.url, page.locator("main").inner_text()
        kept[role] = SignedIn(context.storage_state(), values)
        context.close()
    return kept


CASES = [(role, path) for role, paths in PAGES.items() for path in paths]


def _check(page: Page, where: str) -> None:
    measured = page.evaluate(WIDTHS)
    assert measured["client"] == 320, where
    assert measured["scroll"] <= measured["client"], f"{where} scrolls sideways: {measured}"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(("role", "path"), CASES)
def test_staff_page_reflows_and_passes_axe_at_320px(
    new_context: NewContext,
    signed_in: dict[str, SignedIn],
    role: str,
    path: str,
    javascript: bool,
) -> None:
    state = signed_in[role]
    url = path.format(**state.values)
    url += ("&" if "?" in url else "?") + "lang=en"
    viewport = {"width": 320, "height": 640}
    page = new_context(
        viewport=viewport, storage_state=state.storage, java_script_enabled=javascript
    ).new_page()
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, f"{role} {url}"
    assert "/staff/sign-in" not in page.url
    where = f"{role} {url} ({'js' if javascript else 'no js'})"
    _check(page, where)
    if not javascript:
        html = page.content()
        page = new_context(viewport=viewport, storage_state=state.storage).new_page()
        page.goto("/staff/livez")  # the same origin, so the stylesheet loads
        page.set_content(html)
        _check(page, where)
    violations = axe_violations(page)
    assert not violations, f"{where}:\n" + describe_violations(violations)


@pytest.mark.parametrize("path", ["/staff/sign-in", "/staff/sign-in/code"])
def test_sign_in_pages_reflow_and_pass_axe_at_320px(new_context: NewContext, path: str) -> None:
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto("/staff/sign-in?lang=en")
    if path.endswith("/code"):
        page.fill("input[type=email]", ACCOUNTS["admin"])
        page.fill("input[type=password]", DEMO_PASSWORD)
        assert submit(page, "/staff/sign-in") == 200
    _check(page, path)
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_authenticator_set_up_at_1280px(
    new_context: NewContext, signed_in: dict[str, SignedIn]
) -> None:
    """A QR code to scan, the key in groups of four, and the link within the page."""
    page = new_context(
        viewport={"width": 1280, "height": 800}, storage_state=signed_in["company"].storage
    ).new_page()
    page.goto("/staff/account/second-factor?lang=en")
    box = page.locator(".qr svg").bounding_box()
    assert box is not None
    assert box["width"] >= 150
    groups = page.locator(".secret-groups").inner_text().split()
    assert len(groups) > 4
    assert all(len(group) == 4 for group in groups[:-1])
    page.locator("details summary").click()
    measured = page.evaluate(WIDTHS)
    assert measured["scroll"] <= measured["client"], measured


#: Where the case page's screenshot goes when GRIEVANCE_SCREENSHOTS=1 (docs/, committed).
DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_reviewer_case_page_fits_two_screens_at_1280px(
    new_context: NewContext, signed_in: dict[str, SignedIn], tmp_path: Path
) -> None:
    """The case page as a workspace (#15, item 7): at 1280 x 800 the summary, the
    complainant's words beside the log, and the actions of the stage fit in two screens,
    for the reviewer's case with the longest log."""
    state = signed_in["reviewer"]
    viewport = {"width": 1280, "height": 800}
    page = new_context(viewport=viewport, storage_state=state.storage).new_page()
    page.goto(f"/staff/reviewer/{state.values['busiest']}?lang=en")
    target = DOCS if os.environ.get("GRIEVANCE_SCREENSHOTS") == "1" else tmp_path
    page.screenshot(path=str(target / "reviewer-case-1280.png"), full_page=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 2 * viewport["height"], f"{height} px: more than two screens"
    # the words and the log side by side, the summary above both
    words = page.locator("#statement").bounding_box()
    log = page.locator("#log").bounding_box()
    summary = page.locator(".case-summary").first.bounding_box()
    assert words is not None
    assert log is not None
    assert summary is not None
    assert abs(words["y"] - log["y"]) < 5
    assert log["x"] > words["x"] + words["width"] - 1
    assert summary["y"] + summary["height"] <= words["y"]
    measured = page.evaluate(WIDTHS)
    assert measured["scroll"] <= measured["client"], measured


def test_staff_pages_use_the_width_at_1024px(
    new_context: NewContext, signed_in: dict[str, SignedIn]
) -> None:
    """At 1024 px the queue uses the width, and no case number wraps."""
    page = new_context(
        viewport={"width": 1024, "height": 768}, storage_state=signed_in["reviewer"].storage
    ).new_page()
    page.goto("/staff/reviewer/?lang=en")
    main = page.locator("main").bounding_box()
    assert main is not None
    assert main["width"] >= 1024 - 40
    lines = page.evaluate(
        "[...document.querySelectorAll('a.ref')].map(a => a.getClientRects().length)"
    )
    assert lines
    assert set(lines) == {1}, lines
