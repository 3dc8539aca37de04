"""The home page leads the way (issue #15, item 2): make a complaint, follow one with the
receipt code, each mechanism's other ways in (its policy's data, in the page's language),
what happens next and who will know what."""

from __future__ import annotations

import re

import pytest

from grievance.models import MechanismPolicy
from grievance.policies import PolicyError, policy_for
from tests.factories import make_mechanism

PUBLIC = {
    "name": {"en": "Garments Covenant", "bn": "পোশাক চুক্তি", "ar": "ميثاق الملابس"},
    "sms": "+3197010000001",
    "whatsapp": "+3197010000002",
    "phone": "+31700000001",
    "phone_hours": {"en": "Monday to Friday", "bn": "সোমবার থেকে শুক্রবার"},
    "postal_address": {"en": "PO Box 1, The Hague"},
}


@pytest.fixture
def mechanism(ctx):
    mechanism = make_mechanism(ctx, code="HOM")
    version = max((row.version for row in mechanism.policies), default=0) + 1
    ctx.session.add(
        MechanismPolicy(
            mechanism_id=mechanism.id,
            version=version,
            overrides={"mechanism": PUBLIC},
            note="test",
            created_at=ctx.now(),
        )
    )
    ctx.session.flush()
    ctx.session.expire(mechanism, ["policies"])
    return mechanism


def test_the_home_page_leads_to_the_form_the_follow_up_and_the_other_ways_in(app, mechanism):
    page = app.test_client().get("/?lang=en").get_data(as_text=True)
    assert 'href="/complaint"' in page
    assert 'href="/follow-up"' in page
    assert "Garments Covenant" in page
    assert "What happens next" in page
    assert "Who will know what about you" in page
    assert "Anonymous: we never know who you are." in page
    for number in ("+3197010000001", "+3197010000002", "+31700000001"):
        assert f'<bdi dir="ltr" class="ltr">{number}</bdi>' in page
    assert "Monday to Friday" in page
    assert "PO Box 1, The Hague" in page


def test_mechanism_data_is_shown_in_the_pages_language(app, mechanism):
    client = app.test_client()
    bengali = client.get("/?lang=bn").get_data(as_text=True)
    assert "পোশাক চুক্তি" in bengali
    assert "সোমবার থেকে শুক্রবার" in bengali
    assert "PO Box 1, The Hague" in bengali  # no Bengali address: the English one
    assert "ميثاق الملابس" in client.get("/?lang=ar").get_data(as_text=True)
    assert "Garments Covenant" in client.get("/?lang=ta").get_data(as_text=True)
    form = client.get("/complaint?lang=bn").get_data(as_text=True)
    assert "পোশাক চুক্তি" in form or 'name="mechanism" value="HOM"' in form
    procedure = client.get("/procedure/HOM?lang=ar").get_data(as_text=True)
    assert "ميثاق الملابس" in procedure


@pytest.mark.parametrize("number", ["0612345678", "+0123", "text"])
def test_a_number_not_in_e164_is_refused_by_the_policy(number):
    with pytest.raises(PolicyError):
        policy_for({"mechanism": {"sms": number}})


def test_the_home_page_has_no_phone_number_split_in_arabic(app, mechanism):
    page = app.test_client().get("/?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert re.search(r'<bdi dir="ltr" class="ltr">\+31700000001</bdi>', page)
