"""A decision's reasons in the complainant's language (issue #15, item 4): the reviewer
says which language the reasons are written in (the page's, unless they choose another),
attaches a translation of them for the complainant (sealed, logged, shown on the
follow-up page and in the follow-up API beside the original, each marked with its
language), and is warned while reasons in another language have no translation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grievance.models import Stage, Translation, Visibility
from grievance.services import cases, translations
from grievance.services.actors import Actor
from grievance.services.errors import NotAllowed
from tests.factories import events_of, staff_case
from tests.integration.test_followup_own_words import _page as followup_page
from tests.integration.test_reviewer_workspace import _act, _case_path, _client

REASON = "Within our scope: the factory supplies two member brands."
TRANSLATED = "আমাদের আওতার মধ্যে: কারখানাটি দুটি সদস্য ব্র্যান্ডকে সরবরাহ করে।"


@pytest.fixture
def admissibility(ctx):
    """A Bengali complaint at the admissibility stage, and its lead reviewer."""
    filed, lead, _second = staff_case(ctx)
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    cases.transition(ctx, case, Stage.ADMISSIBILITY, Actor.for_user(lead))
    return filed, lead


def _selected(page: str, name: str) -> str | None:
    select_ = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_, f"no {name} on the page"
    chosen = re.search(
        r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_.group(1)
    )
    return (chosen.group(1) or chosen.group(2)) if chosen else None


def _decide(client, case, **extra):
    data = {"target": "investigation", "reason": REASON, **extra}
    response = _act(client, case, "move", "move", data)
    assert response.status_code == 303, response.get_data(as_text=True)


def _reasons_event(ctx, case):
    (event,) = [e for e in events_of(ctx.session, case, "stage_changed") if e.payload.get("reason")]
    return event


def test_the_reviewer_chooses_the_language_of_the_reasons_the_page_language_first(
    app, ctx, clock, admissibility
):
    filed, lead = admissibility
    client = _client(app, ctx, clock, lead)
    path = _case_path(filed.case)
    english = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert "The reasons are written in" in english
    assert _selected(english, "move-reason_language") == "en"
    assert (
        _selected(client.get(f"{path}?lang=bn").get_data(as_text=True), "move-reason_language")
        == "bn"
    )
    # chosen, not assumed: an English page, reasons the reviewer says are Bengali
    _decide(client, filed.case, reason_language="bn")
    assert _reasons_event(ctx, filed.case).payload["reason_language"] == "bn"


def test_without_a_choice_the_reasons_are_taken_as_in_the_page_language(
    app, ctx, clock, admissibility
):
    filed, lead = admissibility
    _decide(_client(app, ctx, clock, lead), filed.case)
    assert _reasons_event(ctx, filed.case).payload["reason_language"] == "en"


def test_reasons_not_in_the_complainants_language_warn_until_translated_then_show_both(
    app, ctx, clock, admissibility
):
    filed, lead = admissibility
    client = _client(app, ctx, clock, lead)
    _decide(client, filed.case, reason_language="en")
    seq = _reasons_event(ctx, filed.case).seq
    path = _case_path(filed.case)
    page = client.get(f"{path}?lang=en").get_data(as_text=True)
    # the warning, and the reasons offered for translation
    assert f'id="reasons-language-{seq}"' in page
    assert re.search(r"The complainant reads (Bangla|Bengali)[^,]*, and the reasons of", page)
    assert f'value="reasons-{seq}"' in page
    data = {"source": f"reasons-{seq}", "language": "bn", "text": TRANSLATED}
    assert _act(client, filed.case, "translations", "translation", data).status_code == 303
    # sealed, linked to the event, logged for the reviewers
    (row,) = ctx.session.scalars(select(Translation).where(Translation.case_id == filed.case.id))
    assert (row.event_seq, row.message_id, row.language) == (seq, None, "bn")
    assert TRANSLATED.encode() not in row.text_enc
    (logged,) = events_of(ctx.session, filed.case, "translation_added")
    assert logged.payload == {"translation_id": row.id, "language": "bn", "event_seq": seq}
    assert logged.visibility is Visibility.REVIEWERS
    # the warning is gone; the reviewers see the translation, not as one of the statement
    page = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert f'id="reasons-language-{seq}"' not in page
    assert "Translation of the reasons of" in page
    assert f'<p dir="auto" class="body" lang="bn">{TRANSLATED}</p>' in page
    assert "Translation into " not in page  # not taken for a translation of the statement
    # the complainant reads both, each marked with its language, in Bengali and Arabic
    bengali = followup_page(app, filed.receipt_code, "bn")
    assert f'<q class="reason" dir="auto" lang="en">{REASON}</q>' in bengali
    assert f'<q class="reason" dir="auto" lang="bn">{TRANSLATED}</q>' in bengali
    assert "(ইংরেজি (English) ভাষায় লেখা)" in bengali
    assert "বাংলা ভাষায় লেখা" in bengali
    arabic = followup_page(app, filed.receipt_code, "ar")
    assert f'<q class="reason" dir="auto" lang="bn">{TRANSLATED}</q>' in arabic
    assert f'<q class="reason" dir="auto" lang="en">{REASON}</q>' in arabic
    # the statement's own translations are untouched (none)
    assert TRANSLATED not in bengali.split('id="messages"')[0]
    # and the follow-up API
    body = app.test_client().post("/api/v1/followup", json={"receipt_code": filed.receipt_code})
    (decided,) = [e for e in body.get_json()["events"] if e["details"].get("reason") == REASON]
    assert decided["details"]["reason_language"] == "en"
    assert decided["translations"] == [{"language": "bn", "text": TRANSLATED}]


def test_reasons_in_the_complainants_language_need_no_translation(app, ctx, clock, admissibility):
    filed, lead = admissibility
    client = _client(app, ctx, clock, lead)
    _decide(client, filed.case, reason_language="bn")
    page = client.get(f"{_case_path(filed.case)}?lang=en").get_data(as_text=True)
    assert 'id="reasons-language-' not in page


def test_only_reasons_the_complainant_reads_are_translated(ctx, admissibility):
    filed, lead = admissibility
    filed_event = events_of(ctx.session, filed.case)[0]
    assert not filed_event.payload.get("reason")
    with pytest.raises(NotAllowed):
        translations.add_translation(
            ctx, filed.case, Actor.for_user(lead), "bn", TRANSLATED, reasons_of=filed_event
        )
    assert events_of(ctx.session, filed.case, "translation_added") == []
