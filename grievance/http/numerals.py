"""Dates and numbers in the page's locale, with its own digits, everywhere (issue #15,
item 4).

Babel formats dates and numbers with CLDR's patterns but always with Latin digits, while
the catalogs of some languages write their numbers with their own digits: a Bengali page
mixed "৩০ দিন" with "8 ডিসে, 2026". Here the digits are those of the locale's default
numbering system in CLDR (Bengali: beng; Burmese: mymr; the others: Latin), for the
Jinja filters of dates and numbers, and for the numbers a translated text is formatted
with (`%(num)d`), in templates (`install`) and in Python (`ngettext`).

What a person must type or read out as written stays in Latin digits: receipt codes,
case numbers and phone numbers are never passed through these (they are strings).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from functools import cache
from typing import Any

from babel import Locale
from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, format_time, get_locale
from flask_babel import get_translations as _translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

#: The Unicode name of the digits of each numbering system CLDR gives as a default.
SCRIPTS = {
    "beng": "BENGALI",
    "mymr": "MYANMAR",
    "arab": "ARABIC-INDIC",
    "arabext": "EXTENDED ARABIC-INDIC",
    "deva": "DEVANAGARI",
    "khmr": "KHMER",
    "tamldec": "TAMIL",
}
NAMES = ("ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE")
INTEGER_PLACEHOLDER = re.compile(r"%\((\w+)\)d")


@cache
def _table(system: str) -> dict[int, str] | None:
    script = SCRIPTS.get(system)
    if script is None:
        return None
    return {ord(str(n)): unicodedata.lookup(f"{script} DIGIT {NAMES[n]}") for n in range(10)}


def digits_of(locale: Locale | None) -> dict[int, str] | None:
    """The translation table of Latin digits to the locale's own; None: Latin."""
    if locale is None:
        return None
    return _table(getattr(locale, "default_numbering_system", "latn"))


def localise_digits(text: str, locale: Locale | None = None) -> str:
    table = digits_of(locale if locale is not None else get_locale())
    return text.translate(table) if table else text


def _native(value: str) -> str:
    return localise_digits(value)


def dateformat(value: date | datetime, format: str | None = None) -> str:
    return _native(format_date(value, format))


def datetimeformat(value: datetime, format: str | None = None) -> str:
    return _native(format_datetime(value, format))


def timeformat(value: time | datetime, format: str | None = None) -> str:
    return _native(format_time(value, format))


def numberformat(value: float) -> str:
    return _native(format_decimal(value))


def format_translated(text: str, variables: dict[str, Any], *, always: bool = False) -> str:
    """`text % variables`, integers written in the locale's digits. Without variables the
    text is formatted only when `always` (as Jinja's newstyle gettext does: "%%" is "%")."""
    if not variables and not always:
        return text
    table = digits_of(get_locale())
    if not table or not variables:
        return text % variables
    numbers = {
        name: format_decimal(value).translate(table)
        for name, value in variables.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }
    if numbers:
        changed = INTEGER_PLACEHOLDER.sub(
            lambda m: f"%({m.group(1)})s" if m.group(1) in numbers else m.group(0), text
        )
        # the catalog's text stays markup (its variables are escaped); re.sub gave a str
        text = Markup(changed) if isinstance(text, Markup) else changed  # noqa: S704
    return text % {**variables, **numbers}


def gettext(string: str, **variables: Any) -> str:
    return format_translated(_translations().ugettext(string), variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return format_translated(_translations().ungettext(singular, plural, num), variables)


@pass_context
def _template_gettext(context: Context, string: str, **variables: Any) -> str:
    text = _translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - the catalog's text, trusted as Jinja trusts it
    return format_translated(text, variables, always=True)


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    text = _translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - the catalog's text, trusted as Jinja trusts it
    return format_translated(text, variables, always=True)


def install(app: Flask) -> None:
    """After Flask-Babel: its date and number filters, and the templates' `gettext` and
    `ngettext` (what `_` calls), with the locale's digits."""
    app.jinja_env.filters.update(
        dateformat=dateformat,
        datetimeformat=datetimeformat,
        timeformat=timeformat,
        numberformat=numberformat,
    )
    app.jinja_env.globals.update(gettext=_template_gettext, ngettext=_template_ngettext)
