"""The follow-up page and API show the complainant their own words and the details they
gave, dates in the page's locale with its own digits, and the reviewers' reasons marked
with the language they are written in (issue #15, items 3 and 4)."""

from __future__ import annotations

import re

import pytest

from grievance.models import Stage
from grievance.services import cases
from grievance.services.actors import Actor
from tests.factories import staff_case

REASON = "The factory is not a supplier of any member company."
LATIN_DIGIT = re.compile(r"[0-9]")


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


@pytest.fixture
def decided(ctx):
    filed, lead, second = staff_case(
        ctx, location="ঢাকা, লাইন ৭", occurred="গত তিন মাস", companies="রূপসী গার্মেন্টস"
    )
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, Actor.for_user(lead))
    proposed = cases.decide(
        ctx, case, Stage.INADMISSIBLE, Actor.for_user(lead), REASON, reason_language="en"
    )
    assert proposed.proposal is not None
    cases.confirm_decision(ctx, proposed.proposal, Actor.for_user(second))
    return filed


def _page(app, code: str, lang: str) -> str:
    client = app.test_client()
    sign_in = client.get(f"/follow-up?lang={lang}").get_data(as_text=True)
    client.post(f"/follow-up?lang={lang}", data={"csrf_token": _token(sign_in), "code": code})
    return client.get(f"/follow-up/case?lang={lang}").get_data(as_text=True)


def test_the_bengali_follow_up_page_shows_their_words_bengali_dates_and_marked_reasons(
    app, decided
):
    page = _page(app, decided.receipt_code, "bn")
    # their own statement and details, under the form's own questions, marked as Bengali
    assert 'lang="bn" dir="auto">আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।</p>' in page
    for given in ("ঢাকা, লাইন ৭", "গত তিন মাস", "রূপসী গার্মেন্টস", "বাংলাদেশ"):
        assert given in page
    # dates in Bengali, with Bengali digits, and no Latin digit in a date
    dates = re.findall(r'<span class="when">([^<]+)</span>', page)
    assert dates
    for shown in dates:
        assert re.search("[\u0980-\u09ff]{3}", shown), shown  # the month, in Bengali
        assert not LATIN_DIGIT.search(shown), shown
        assert re.search("[০-৯]", shown), shown
    # the reviewers' reasons as written, marked as English, visibly and for machines
    assert re.search(rf'<q class="reason" dir="auto" lang="en">{re.escape(REASON)}</q>', page)
    assert "(ইংরেজি (English) ভাষায় লেখা)" in page  # visible, in Bengali
    # the case number is isolated left to right
    assert f'<bdi dir="ltr" class="ltr">{decided.case.reference}</bdi>' in page


def test_an_english_page_marks_the_reason_and_the_statement_language(app, decided):
    page = _page(app, decided.receipt_code, "en")
    assert "Written in English" in page
    assert "Written in Bangla" in page or "Written in Bengali" in page
    assert "What you told us" in page
    assert "Living wage" in page or "living wage" in page.lower()


def test_the_follow_up_api_gives_their_words_details_and_files(app, decided):
    response = app.test_client().post(
        "/api/v1/followup", json={"receipt_code": decided.receipt_code}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["statement"] == "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।"
    assert body["details"]["language"] == "bn"
    assert body["details"]["themes"] == ["living_wage"]
    assert body["details"]["country"] == "BD"
    assert body["details"]["location"] == "ঢাকা, লাইন ৭"
    assert body["details"]["anonymity"] == "anonymous"
    assert body["files"] == []
    reasons = [e["details"] for e in body["events"] if e["details"].get("reason")]
    assert reasons[-1] == {"reason": REASON, "reason_language": "en"} or (
        reasons[-1]["reason_language"] == "en"
    )


# -- a translation for the complainant, and the warning to the reviewer ---------------------

TO_COMPLAINANT = "We spoke with the factory; they will pay the overtime by the end of May."
TRANSLATED = "আমরা কারখানার সাথে কথা বলেছি; তারা মে মাসের শেষে ওভারটাইমের টাকা দেবে।"


def test_a_translation_the_reviewer_attaches_is_shown_to_the_complainant(app, ctx, decided):
    from grievance.models import Channel, User
    from grievance.services import messages, translations
    from tests.factories import assigned_ids

    lead = ctx.session.get(User, next(iter(assigned_ids(ctx, decided.case).values())))
    actor = Actor.for_user(lead)
    sent = messages.add_message(
        ctx, decided.case, actor, TO_COMPLAINANT, Channel.WEB, decided.complainant
    )
    translations.add_translation(ctx, decided.case, actor, "bn", TRANSLATED, sent)
    page = _page(app, decided.receipt_code, "bn")
    assert TO_COMPLAINANT in page
    assert f'<p dir="auto" class="body" lang="bn">{TRANSLATED}</p>' in page
    assert "বাংলা ভাষায় লেখা" in page
    body = app.test_client().post("/api/v1/followup", json={"receipt_code": decided.receipt_code})
    (theirs,) = [m for m in body.get_json()["messages"] if m["body"] == TO_COMPLAINANT]
    assert theirs["translations"] == [{"language": "bn", "text": TRANSLATED}]


def test_the_reviewer_is_warned_when_the_page_is_not_in_the_complainants_language(
    app, ctx, clock, decided
):
    from grievance.models import User
    from tests.factories import assigned_ids
    from tests.integration.test_reviewer_workspace import _client

    lead = ctx.session.get(User, next(iter(assigned_ids(ctx, decided.case).values())))
    client = _client(app, ctx, clock, lead)
    path = f"/staff/reviewer/cases/{decided.case.reference}"
    english = client.get(f"{path}?lang=en").get_data(as_text=True)
    assert 'id="message-language"' in english
    assert "The complainant reads Bangla" in english or "The complainant reads Bengali" in english
    bengali = client.get(f"{path}?lang=bn").get_data(as_text=True)
    assert 'id="message-language"' not in bengali


def test_a_reasons_language_is_kept_only_when_the_policy_knows_it(ctx):
    filed, lead, _second = staff_case(ctx)
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, Actor.for_user(lead))
    known = cases.propose_decision(
        ctx, case, Stage.INADMISSIBLE, Actor.for_user(lead), REASON, reason_language="fr"
    )
    assert known.reason_language == "fr"
    cases.withdraw_decision(ctx, known, Actor.for_user(lead), "Wrong stage.")
    unknown = cases.propose_decision(
        ctx, case, Stage.INADMISSIBLE, Actor.for_user(lead), REASON, reason_language="xx"
    )
    assert unknown.reason_language == ""
