"""Layout on a cheap phone and in right-to-left scripts: nothing scrolls sideways at
320 CSS pixels (WCAG 1.4.10, reflow) nor on a 360×640 phone, and Arabic and Urdu pages
are mirrored."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import STATES, LiveServer, NewContext, visit

pytestmark = pytest.mark.browser

VIEWPORTS: dict[str, dict[str, Any]] = {
    # a desktop window zoomed to 400 %, or the narrowest phones
    "320px": {"viewport": {"width": 320, "height": 568}},
    # a typical cheap Android phone, with its touch screen and its own viewport rules
    "phone-360x640": {
        "viewport": {"width": 360, "height": 640},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

WIDTHS = """() => {
  const root = document.documentElement;
  const wide = [...document.body.querySelectorAll("*")]
    .filter(e => {
      const box = e.getBoundingClientRect();
      return box.width > 0 && (box.right > root.clientWidth + 1 || box.left < -1);
    })
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
         (e.className ? "." + String(e.className).replace(/ /g, ".") : ""));
  return {scroll: root.scrollWidth, client: root.clientWidth, wide: wide.slice(0, 10)};
}"""


@pytest.mark.parametrize("lang", ["en", "ar", "my"])
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_horizontal_scrolling(
    new_context: NewContext, live_server: LiveServer, viewport: str, lang: str
) -> None:
    options = VIEWPORTS[viewport]
    page = new_context(**options).new_page()
    scrolling = {}
    for state in STATES:
        visit(page, live_server, state, lang)
        measured = page.evaluate(WIDTHS)
        # the page's own viewport rule holds (a phone would lay it out 980 px wide without)
        assert measured["client"] == options["viewport"]["width"], state
        if measured["scroll"] > measured["client"]:
            scrolling[state] = measured
    assert not scrolling, f"scrolls sideways in {lang} at {viewport}: {scrolling}"


def test_the_width_check_sees_an_overflow(new_context: NewContext, live_server: LiveServer) -> None:
    """The check is real: an element wider than the screen makes it fail."""
    page = new_context(**VIEWPORTS["320px"]).new_page()
    visit(page, live_server, "index", "en")
    page.evaluate("document.querySelector('h1').style.width = '400px'")
    measured = page.evaluate(WIDTHS)
    assert measured["scroll"] > measured["client"]


# -- right to left -----------------------------------------------------------------------

CONTENT_BOX = """selector => {
  const element = document.querySelector(selector);
  const box = element.getBoundingClientRect();
  const style = getComputedStyle(element);
  return {
    left: box.left + parseFloat(style.paddingLeft) + parseFloat(style.borderLeftWidth),
    right: box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth),
  };
}"""

TEXT_BOX = """selector => {
  const range = document.createRange();
  range.selectNodeContents(document.querySelector(selector));
  const box = range.getBoundingClientRect();
  return {left: box.left, right: box.right};
}"""

ELEMENT_BOX = """selector => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return {left: box.left, right: box.right};
}"""


def _sides(page: Page, measure: str, selector: str) -> tuple[float, float]:
    """How far `selector` (its text, or its box) is from the left and the right edge of
    the content column."""
    column = page.evaluate(CONTENT_BOX, "main")
    box = page.evaluate(measure, selector)
    return box["left"] - column["left"], column["right"] - box["right"]


@pytest.mark.parametrize("lang", ["ar", "ur"])
def test_right_to_left_pages_are_mirrored(
    new_context: NewContext, live_server: LiveServer, lang: str
) -> None:
    page = new_context(viewport={"width": 800, "height": 900}).new_page()
    page.goto(f"/complaint?lang={lang}")
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl"
    assert html.get_attribute("lang") == lang
    # labels, headings and the button start at the right edge of the column
    for measure, selector in (
        (TEXT_BOX, "label[for=statement]"),
        (TEXT_BOX, "main h1"),
        (ELEMENT_BOX, 'form[action="/complaint"] button[type="submit"]'),
    ):
        from_left, from_right = _sides(page, measure, selector)
        assert abs(from_right) <= 2, f"{selector} ends {from_right}px from the right edge"
        assert from_left > 100, f"{selector} is not on the right: {from_left}px from the left"
    # the language menu starts at the right too
    header = page.evaluate(CONTENT_BOX, ".site-header")
    first = page.evaluate(ELEMENT_BOX, ".languages li:first-child")
    last = page.evaluate(ELEMENT_BOX, ".languages li:last-child")
    assert abs(header["right"] - first["right"]) <= 2
    assert first["left"] > last["left"] or first["left"] > header["left"] + 100


def test_left_to_right_pages_are_not_mirrored(
    new_context: NewContext, live_server: LiveServer
) -> None:
    """The same measures in English find everything on the left: they tell the two apart."""
    page = new_context(viewport={"width": 800, "height": 900}).new_page()
    page.goto("/complaint?lang=en")
    assert page.locator("html").get_attribute("dir") == "ltr"
    for measure, selector in (
        (TEXT_BOX, "label[for=statement]"),
        (TEXT_BOX, "main h1"),
        (ELEMENT_BOX, 'form[action="/complaint"] button[type="submit"]'),
    ):
        from_left, from_right = _sides(page, measure, selector)
        assert abs(from_left) <= 2
        assert from_right > 100
