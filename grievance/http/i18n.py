"""Locale negotiation: `?lang=`, then the `lang` cookie, then Accept-Language."""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import request
from flask_babel import get_locale
from markupsafe import Markup

from grievance.policies import default_policy

LANG_COOKIE = "lang"


def supported_languages() -> tuple[str, ...]:
    return tuple(language.code for language in default_policy().language)


def select_locale() -> str:
    supported = supported_languages()
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in supported:
            return candidate
    return _best_accepted(supported) or "en"


def _best_accepted(supported: tuple[str, ...]) -> str | None:
    """The supported language the browser prefers most, a regional tag matching its
    language ('ur-PK' gives 'ur'). Werkzeug's `best_match` would take an exact match of
    lower quality first ('ur-PK, en;q=0.5' gave English)."""
    by_tag = {code.lower().replace("-", "_"): code for code in supported}
    for value, quality in request.accept_languages:  # highest quality first
        if quality <= 0:
            continue
        tag = value.lower().replace("-", "_")
        for candidate in (tag, tag.split("_", 1)[0]):
            if candidate in by_tag:
                return by_tag[candidate]
    return None


def text_direction(locale: Locale | None) -> str:
    return "rtl" if locale is not None and locale.character_order == "right-to-left" else "ltr"


def template_globals() -> dict[str, Any]:
    locale = get_locale()
    return {
        "html_lang": str(locale).replace("_", "-") if locale else "en",
        "html_dir": text_direction(locale),
        "site_languages": default_policy().language,
        "ltr": ltr,
        "language_name": language_name,
    }


def ltr(value: object) -> Markup:
    """A left-to-right fragment (a case number, a receipt code, a phone number) isolated
    from the text around it, so that a right-to-left page neither reorders its parts nor
    breaks it over two lines: `<bdi dir="ltr" class="ltr">` (its CSS: no wrapping)."""
    return Markup('<bdi dir="ltr" class="ltr">{}</bdi>').format(value)


def remember_language(response: Any) -> Any:
    """Keep a language chosen with `?lang=` in a cookie (no identifying data in it) that
    ends when the browser closes: a language kept for a year on a shared or searched
    phone would say that someone used the complaints pages."""
    chosen = request.args.get("lang")
    if chosen in supported_languages() and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
    return response


def language_name(code: str) -> str:
    """A language as the reader calls it, with its own name beside it when that differs
    ('Bengali (বাংলা)' for an English reader), from Babel/CLDR; the code if unknown."""
    reader = get_locale() or Locale.parse("en")
    try:
        locale = Locale.parse(code)
    except (ValueError, LookupError):
        return code
    here, own = locale.get_display_name(reader), locale.get_display_name(locale)
    if not here:
        return own or code
    return here if not own or own == here else f"{here} ({own})"
