"""The language picker: each language is named in itself, in its own script, and
choosing one switches the page (and the next pages) to it."""

from __future__ import annotations

import unicodedata

import pytest
from babel.support import Translations
from playwright.sync_api import Page

from grievance import LOCALES
from grievance.policies import default_policy
from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

#: The script each language is written in (Unicode character names start with it).
SCRIPTS = {
    "en": "LATIN",
    "nl": "LATIN",
    "bn": "BENGALI",
    "ta": "TAMIL",
    "hi": "DEVANAGARI",
    "ur": "ARABIC",
    "ar": "ARABIC",
    "my": "MYANMAR",
    "km": "KHMER",
    "vi": "LATIN",
    "tr": "LATIN",
    "es": "LATIN",
    "fr": "LATIN",
    "pt": "LATIN",
    "zh": "CJK",
    "id": "LATIN",
    "sw": "LATIN",
    "am": "ETHIOPIC",
}
RTL = {"ar", "ur"}


def _menu(page: Page) -> dict[str, str]:
    """The picker's links: language code (its hreflang) → the link's text."""
    links = page.locator("nav.languages a")
    menu: dict[str, str] = {}
    for index in range(links.count()):
        link = links.nth(index)
        code = link.get_attribute("hreflang") or ""
        assert link.get_attribute("lang") == code, f"{code}'s name is not marked as {code}"
        menu[code] = link.inner_text().strip()
    return menu


def _in_script(text: str, script: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and all(unicodedata.name(char).startswith(script) for char in letters)


def test_the_picker_names_every_language_in_its_own_script(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/complaint?lang=en")
    menu = _menu(page)
    offered = [language.code for language in default_policy().language]
    assert list(menu) == offered
    assert set(SCRIPTS) == set(offered), "a new language: say which script it is written in"
    wrong = {code: name for code, name in menu.items() if not _in_script(name, SCRIPTS[code])}
    assert not wrong, f"not written in their own script: {wrong}"
    # the names do not follow the page's language
    for lang in ("ar", "my"):
        page.goto(f"/complaint?lang={lang}")
        assert _menu(page) == menu


def test_the_script_check_is_real() -> None:
    assert _in_script("বাংলা", "BENGALI")
    assert _in_script("中文（简体）", "CJK")
    assert not _in_script("Bangla", "BENGALI")
    assert not _in_script("Arabic", "ARABIC")
    assert not _in_script("", "LATIN")


@pytest.mark.parametrize("lang", ["ar", "bn", "my", "zh", "nl"])
def test_choosing_a_language_switches_the_page_and_the_next_ones(
    page: Page, live_server: LiveServer, lang: str
) -> None:
    translations = Translations.load(str(LOCALES), [lang], domain="messages")
    heading = translations.gettext("Make a complaint")
    assert heading != "Make a complaint", f"no compiled catalog for {lang} (make translations)"

    page.goto("/complaint")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("nav.languages a[aria-current]").get_attribute("hreflang") == "en"

    page.locator(f'nav.languages a[hreflang="{lang}"]').click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{live_server.url}/complaint")
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang in RTL else "ltr")
    assert page.locator("main h1").inner_text() == heading
    current = page.locator("nav.languages a[aria-current]")
    assert current.count() == 1
    assert current.get_attribute("hreflang") == lang

    # the choice is kept for the next page, without ?lang=
    page.goto("/follow-up")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("main h1").inner_text() == translations.gettext("Follow your complaint")
