"""Dates and numbers in the page's locale with its own digits (issue #15, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask, render_template_string
from flask_babel import Babel, force_locale

from grievance.http import numerals

MOMENT = datetime(2026, 12, 8, 14, 30, tzinfo=UTC)


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    Babel(app)
    numerals.install(app)
    return app


@pytest.mark.parametrize(
    ("locale", "digits"), [("bn", "০১২৩৪৫৬৭৮৯"), ("my", "၀၁၂၃၄၅၆၇၈၉"), ("en", "0123456789")]
)
def test_dates_and_numbers_use_the_locales_own_digits(app, locale, digits):
    with app.test_request_context(), force_locale(locale):
        shown = render_template_string(
            "{{ moment|dateformat('medium') }} {{ 1234|numberformat }}"
            " {{ ngettext('%(num)d day', '%(num)d days', 12) }}"
            " {{ _('%(num)d of %(name)s', num=3, name='WEB-2026-00012') }} {{ _('100%%') }}",
            moment=MOMENT,
        )
    used = {ch for ch in shown if ch.isdigit()}
    # every digit is the locale's, but the case number (a string) stays as written
    assert used - set(digits) <= set("0126"), shown
    assert "WEB-2026-00012" in shown
    assert shown.endswith("100%")
    assert digits[8] in shown  # the day of the month, 8, in the locale's digits


def test_markup_stays_escaped(app):
    with app.test_request_context(), force_locale("bn"):
        shown = render_template_string(
            "{{ ngettext('%(num)d by %(who)s', '%(num)d by %(who)s', 2, who='<b>x</b>') }}"
        )
    assert "&lt;b&gt;" in shown
    assert "২" in shown


def test_python_ngettext_and_gettext(app):
    with app.test_request_context(), force_locale("bn"):
        assert numerals.ngettext("%(num)d day", "%(num)d days", 30) == "৩০ days"
        assert numerals.gettext("50%") == "50%"  # no variables: not a format
