"""The published procedure of each mechanism (R01): stages, time limits, outcomes, in the
reader's language, from the mechanism's own policy."""

from grievance.models import MechanismPolicy
from tests.factories import make_mechanism


def test_the_procedure_lists_stages_time_limits_and_outcomes(app, ctx):
    make_mechanism(ctx, code="PRO")
    page = app.test_client().get("/procedure/PRO?lang=en").get_data(as_text=True)
    for text in (
        "Acknowledge receipt: within 7 days",
        "Decide on admissibility: within 90 days",
        "Update the complainant on progress: at least every 30 days",
        "Give feedback on the action taken: within 3 months",
        "Ask the complainant whether remedy was experienced: within 6 months",
        "Decide on the appeal: within 60 days",
        "Not admissible",
        "Referred: another body is better placed",
        "OECD National Contact Point",
        "version 0",
    ):
        assert text in page, text


def test_the_procedure_follows_the_mechanism_policy_and_its_version(app, ctx):
    mechanism = make_mechanism(
        ctx,
        code="BUS",
        overrides={
            "calendar": {"business_days": True},
            "time_limit": [{"code": "acknowledge", "days": 5}],
        },
    )
    ctx.session.add(
        MechanismPolicy(
            mechanism_id=mechanism.id,
            version=2,
            overrides={
                "calendar": {"business_days": True},
                "time_limit": [{"code": "acknowledge", "days": 3}],
            },
            created_at=ctx.now(),
        )
    )
    ctx.session.flush()
    ctx.session.refresh(mechanism)
    page = app.test_client().get("/procedure/bus?lang=en").get_data(as_text=True)
    assert "Acknowledge receipt: within 3 working days" in page
    assert "weekends and public holidays do not count" in page
    assert "version 2" in page


def test_the_procedure_is_translated(app, ctx):
    make_mechanism(ctx, code="TRN")
    page = app.test_client().get("/procedure/TRN?lang=nl").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in page
    assert "Ontvangst bevestigen: binnen 7 dagen" in page
    assert "De klager op de hoogte houden: minstens elke 30 dagen" in page
    assert "Acknowledge receipt" not in page


def test_an_unknown_mechanism_is_not_found(app, ctx):
    assert app.test_client().get("/procedure/NOPE").status_code == 404


def test_the_front_page_links_each_procedure(app, ctx):
    make_mechanism(ctx, code="LNK")
    page = app.test_client().get("/").get_data(as_text=True)
    assert 'href="/procedure/LNK"' in page


def test_each_outcome_is_named_once(app, ctx):
    """The outcome's name was printed before its text, which begins with it:
    "Not admissible: Not admissible: …"."""
    make_mechanism(ctx, code="ONE")
    for lang in ("en", "bn", "ar", "nl"):
        page = app.test_client().get(f"/procedure/ONE?lang={lang}").get_data(as_text=True)
        outcomes = page.split('<ul class="outcomes">', 1)[1].split("</ul>", 1)[0]
        assert "<strong>" not in outcomes
        if lang == "en":
            assert "Not admissible: the mechanism cannot handle" in outcomes
            assert outcomes.count("Not admissible") == 1
