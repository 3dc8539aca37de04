"""The public case registry and a published case's page (issue 16, item 1) in a real
browser: English and Arabic (right to left), at 320 and 1280 px, no sideways scrolling,
axe-core clean."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    AXE_TAGS,
    LiveServer,
    NewContext,
    axe_violations,
    describe_violations,
    goto,
)
from tests.browser.test_layout import WIDTHS

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_registry_and_a_case_page(
    new_context: NewContext, live_server: LiveServer, lang: str, width: int
) -> None:
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    assert goto(page, f"{live_server.url}/registry/TEX?lang={lang}") == 200
    assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
    links = page.locator("ul.registry h2 a")
    assert links.count() > 0, "the demo registry lists no case"
    for where in ("registry", "case"):
        violations = axe_violations(page)
        assert not violations, f"{where} in {lang} at {width} px, axe {AXE_TAGS}:\n" + (
            describe_violations(violations)
        )
        measured = page.evaluate(WIDTHS)
        assert measured["scroll"] <= measured["client"], (where, measured)
        if where == "registry":
            href = links.first.get_attribute("href")
            assert href
            assert goto(page, f"{live_server.url}{href}") == 200
            assert page.locator("code.command").count() == 1  # how to check the log
