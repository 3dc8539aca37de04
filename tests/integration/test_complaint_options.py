"""The complaint form's country list is rendered once per locale and process (issue 17:
`GET /complaint` spent most of its time escaping about 250 options), and still says
the reader's language and keeps the country chosen."""

from __future__ import annotations

import re

import pytest
from wtforms.widgets import Select

from intake.web.options import COUNTRY_SELECT
from tests.factories import make_mechanism

SELECT = re.compile(r'<select[^>]*name="country".*?</select>', re.DOTALL)
CHOSEN = re.compile(r'<option selected value="([A-Z]{2})">')


@pytest.fixture
def mechanism(ctx):
    return make_mechanism(ctx, code="OPT")


@pytest.fixture
def rendered(monkeypatch):
    """How many options WTForms has rendered, from a cleared list."""
    COUNTRY_SELECT._kept.clear()
    count = [0]
    real = Select.render_option.__func__  # type: ignore[attr-defined]

    def counting(cls, choice, **kwargs):
        count[0] += 1
        return real(cls, choice, **kwargs)

    monkeypatch.setattr(Select, "render_option", classmethod(counting))
    return count


def test_the_country_list_is_rendered_once_per_locale(app, mechanism, rendered):
    client = app.test_client()
    english = client.get("/complaint?lang=en").get_data(as_text=True)
    first = rendered[0]
    assert first > 200  # every country, once
    again = client.get("/complaint?lang=en").get_data(as_text=True)
    assert SELECT.search(again).group(0) == SELECT.search(english).group(0)
    assert rendered[0] == first  # the second time: not one option rendered again
    french = client.get("/complaint?lang=fr").get_data(as_text=True)
    assert rendered[0] > first  # another locale: its own list
    assert ">Germany</option>" in english
    assert ">Allemagne</option>" in french
    assert "Allemagne" not in english


def test_a_chosen_country_stays_chosen_and_a_blank_form_chooses_none(app, mechanism, rendered):
    client = app.test_client()
    page = client.get("/complaint?lang=en").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    assert CHOSEN.findall(page) == []
    form = {
        "csrf_token": token.group(1),
        "mechanism": "OPT",
        "statement": "",  # refused: the form comes back
        "country": "BD",
        "urgent": "no",
        "kind": "affected",
        "anonymity": "anonymous",
        "contact": "none",
    }
    response = client.post("/complaint?lang=en", data=form)
    assert response.status_code == 422
    assert CHOSEN.findall(response.get_data(as_text=True)) == ["BD"]
    assert CHOSEN.findall(client.get("/complaint?lang=en").get_data(as_text=True)) == []
