"""axe-core finds no violation of the WCAG 2.x A and AA rules on any page of the
anonymous surface, in English, in Arabic (right to left) and in Bengali."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import (
    AXE_TAGS,
    STATES,
    LiveServer,
    NewContext,
    axe_violations,
    describe_violations,
    visit,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("lang", ["en", "ar", "bn"])
@pytest.mark.parametrize("state", STATES)
def test_no_axe_violations(
    new_context: NewContext, live_server: LiveServer, state: str, lang: str, width: int
) -> None:
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    visit(page, live_server, state, lang)
    violations = axe_violations(page)
    assert not violations, f"{state} in {lang} at {width} px, axe {AXE_TAGS}:\n" + (
        describe_violations(violations)
    )


def test_axe_does_find_a_violation(page: Page, live_server: LiveServer) -> None:
    """The check is real: the same run on a page spoilt on purpose reports it."""
    visit(page, live_server, "complaint", "en")
    page.evaluate("document.querySelector('label[for=statement]').remove()")
    ids = {violation["id"] for violation in axe_violations(page)}
    assert "label" in ids
