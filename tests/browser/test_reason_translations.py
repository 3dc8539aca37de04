"""The follow-up page with a decision's reasons and the reviewer's translation of them
(#15, item 4), in Bengali and Arabic at 320 px: both shown, each marked with its language,
nothing scrolls sideways and axe-core finds no violation."""

from __future__ import annotations

import pytest

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import CaseEvent, Mechanism, Stage
from grievance.services import cases, translations
from grievance.services.actors import Actor
from tests.browser.conftest import LiveServer, NewContext, axe_violations, describe_violations
from tests.browser.conftest import sign_in as follow_up_sign_in
from tests.browser.test_layout import WIDTHS
from tests.factories import staff_case

pytestmark = pytest.mark.browser

REASON = "Within our scope: the factory supplies two member brands of the covenant."
TRANSLATED = "আমাদের আওতার মধ্যে: কারখানাটি চুক্তির দুটি সদস্য ব্র্যান্ডকে সরবরাহ করে।"


@pytest.fixture(scope="module")
def translated_code(live_server: LiveServer) -> str:
    from sqlalchemy import select

    with live_server.app.app_context():
        ctx = service_context()
        tex = ctx.session.scalars(select(Mechanism).where(Mechanism.code == "TEX")).one()
        filed, lead, _second = staff_case(ctx, mechanism=tex)
        actor = Actor.for_user(lead)
        case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, actor)
        case = cases.transition(ctx, case, Stage.ADMISSIBILITY, actor)
        cases.decide(ctx, case, Stage.INVESTIGATION, actor, REASON, reason_language="en")
        event = ctx.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == "stage_changed")
            .order_by(CaseEvent.seq.desc())
        ).first()
        assert event is not None
        translations.add_translation(ctx, case, actor, "bn", TRANSLATED, reasons_of=event)
        db.session.commit()
        code = filed.receipt_code
        db.session.remove()
    return code


@pytest.mark.parametrize("lang", ["bn", "ar"])
def test_the_reasons_and_their_translation_at_320px(
    new_context: NewContext, live_server: LiveServer, translated_code: str, lang: str
) -> None:
    page = new_context(viewport={"width": 320, "height": 568}).new_page()
    follow_up_sign_in(page, translated_code, lang)
    page.goto(f"/follow-up/case?lang={lang}")
    original = page.locator('q.reason[lang="en"]', has_text=REASON)
    translation = page.locator('q.reason[lang="bn"]', has_text=TRANSLATED)
    assert original.count() == 1
    assert translation.count() == 1
    # the translation under the reasons, not beside them off the screen
    assert translation.bounding_box()["y"] > original.bounding_box()["y"]  # type: ignore[index]
    measured = page.evaluate(WIDTHS)
    assert measured["scroll"] <= measured["client"], measured
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
