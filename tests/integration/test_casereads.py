"""One read model per audience (DESIGN invariant 4): what each view of a case holds and,
above all, what it must not: identities and the complainant's words for the companies and
the public, reviewer-only and internal events for the complainant, one company's
involvement and remedy for another; frozen; and built without a query per event."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from grievance.models import (
    Anonymity,
    Channel,
    ComplainantKind,
    Consent,
    ConsultationAnswer,
    ContactChannel,
    InvolvementKind,
    ReprisalRisk,
    Role,
    Stage,
    Visibility,
)
from grievance.services import (
    attachments,
    cases,
    hearing,
    identity,
    involvement,
    messages,
    remedy_delivery,
    remedy_plan,
    timekeeping,
    translations,
)
from grievance.services.actors import SYSTEM, Actor
from grievance.services.attachments import check_file
from grievance.services.caselog import EVENT_KINDS
from grievance.services.casereads import (
    Audience,
    company_view,
    complainant_view,
    public_view,
    reviewer_view,
    secretariat_view,
)
from grievance.services.errors import NotAllowed
from grievance.services.filing import ComplainantDetails
from tests.factories import (
    classify,
    make_company,
    make_reviewer,
    make_secretariat,
    make_user,
    new_case,
    staff_case,
)
from tests.media import pdf_document

STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।"
WHERE = "Gazipur, line 4"
NAME = "Rahima Begum"
PHONE = "+8801711000001"
DETAILS = "Sewing operator, line 4"
FROM_COMPLAINANT = "They cut our pay again."
TO_COMPLAINANT = "Since when? Please tell us."
PAUSE_REASON = "Please send the payslip of March."
MOVE_REASON = "We check whether the mechanism can handle it."
REVEAL_REASON = "To call her about the visit."
TRANSLATION = "We were not paid three months of overtime."
ALPHA, BETA = "Alpha Garments", "Beta Spinning"
ALPHA_RATIONALE = "Alpha runs the sewing line."
BETA_RATIONALE = "Beta's confidential supply terms."
ALPHA_REMEDY = "Alpha pays the overtime owed."
BETA_REMEDY = "Beta audits its subcontractors."
PDF = pdf_document()


@dataclasses.dataclass
class World:
    filed: object
    lead: object
    second: object
    alpha: object
    beta: object
    alpha_action: object
    beta_action: object

    @property
    def case(self):
        return self.filed.case  # type: ignore[attr-defined]

    @property
    def complainant(self):
        return self.filed.complainant  # type: ignore[attr-defined]


@pytest.fixture
def world(ctx) -> World:
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL,
        kind=ComplainantKind.AFFECTED,
        contact_channel=ContactChannel.SMS,
        contact_address=PHONE,
        name=NAME,
        details=DETAILS,
    )
    filed, lead, second = staff_case(ctx, complainant=person, location=WHERE, statement=STATEMENT)
    case = filed.case
    reviewer = Actor.for_user(lead)
    complainant = Actor.for_complainant(filed.complainant)
    alpha = make_company(ctx, case.mechanism, name=ALPHA)
    beta = make_company(ctx, case.mechanism, name=BETA)
    for company in (alpha, beta):
        involvement.add_company(ctx, case, company, SYSTEM)
    cases.transition(ctx, case, Stage.ACKNOWLEDGED, reviewer)
    cases.transition(ctx, case, Stage.ADMISSIBILITY, reviewer, MOVE_REASON)
    classify(ctx, case, alpha, InvolvementKind.CAUSE, second, lead, ALPHA_RATIONALE)
    classify(ctx, case, beta, InvolvementKind.LINKED, second, lead, BETA_RATIONALE)
    cases.assess_severity(ctx, case, reviewer, scale=4, scope=3, irremediability=2, likelihood=4)
    cases.assess_reprisal_risk(ctx, case, reviewer, ReprisalRisk.HIGH)
    messages.add_message(ctx, case, complainant, FROM_COMPLAINANT, Channel.WEB)
    messages.add_message(ctx, case, reviewer, TO_COMPLAINANT, Channel.WEB, feedback=True)
    attachments.attach(ctx, case, complainant, [check_file("payslip.pdf", PDF)])
    alpha_staff = Actor.for_user(make_user(ctx, Role.COMPANY, company=alpha))
    beta_staff = Actor.for_user(make_user(ctx, Role.COMPANY, company=beta))
    # on to a remedy plan: each company proposes its item, the complainant agrees, two
    # reviewers approve (each item's due date a time limit of that company), Beta reports
    cases.transition(ctx, case, Stage.INVESTIGATION, reviewer, "Admissible.")
    hearing.record_hearing(ctx, case, reviewer, heard=True, note="By phone.")  # R08
    proposal = cases.propose_decision(ctx, case, Stage.FINDINGS, reviewer, "Founded.")
    cases.confirm_decision(ctx, proposal, Actor.for_user(second))
    cases.transition(ctx, case, Stage.REMEDY_PLAN, reviewer)
    alpha_action = remedy_plan.propose_item(
        ctx,
        case,
        alpha_staff,
        remedy_plan.ItemInput("restitution", ALPHA_REMEDY, due_on=date(2026, 6, 30)),
    )
    beta_action = remedy_plan.propose_item(
        ctx,
        case,
        beta_staff,
        remedy_plan.ItemInput("apology", BETA_REMEDY, due_on=date(2026, 5, 31)),
    )
    for action in (alpha_action, beta_action):
        remedy_plan.take_in(ctx, action, reviewer)
    remedy_plan.put_to_complainant(ctx, case, reviewer)
    remedy_plan.answer(ctx, case, complainant, ConsultationAnswer.AGREE, "web")
    remedy_plan.propose_approval(ctx, case, reviewer, "Agreed.")
    remedy_plan.confirm_approval(ctx, case, Actor.for_user(second))
    remedy_delivery.report_progress(ctx, beta_action, beta_staff, "Letter drafted.")
    timekeeping.pause_clock(ctx, case, reviewer, PAUSE_REASON)
    identity.reveal_identity(ctx, case, filed.complainant, reviewer, REVEAL_REASON)
    translations.add_translation(ctx, case, reviewer, "en", TRANSLATION)
    ctx.session.flush()
    return World(filed, lead, second, alpha, beta, alpha_action, beta_action)


def _kinds(view) -> list[str]:
    return [event.kind for event in view.events]


def _absent(view, *secrets: str) -> None:
    dump = repr(view)
    for secret in secrets:
        assert secret not in dump, f"{secret!r} reached {type(view).__name__}"


def _fields_allowed(view, audience: Visibility) -> None:
    """Every field of every event is one its visibility shows to this audience."""
    for event in view.events:
        spec = EVENT_KINDS[event.kind]
        assert spec.visibility <= audience
        for name in event.fields:
            assert spec.fields[name] <= audience, f"{event.kind}.{name}"


# -- the complainant ------------------------------------------------------------------------


def test_the_complainant_sees_the_parties_log_and_their_conversation(ctx, world):
    view = complainant_view(ctx, world.case, world.complainant)
    assert view.reference == world.case.reference
    assert view.stage is Stage.REMEDY_IMPLEMENTATION
    assert view.waiting
    kinds = _kinds(view)
    for kind in ("case_filed", "stage_changed", "company_added", "clock_paused", "feedback_given"):
        assert kind in kinds
    for kind in (
        "severity_assessed",
        "reprisal_risk_assessed",
        "reviewer_assigned",
        "message_from_complainant",
        "translation_added",
        "identity_revealed",
    ):
        assert kind not in kinds
    _fields_allowed(view, Visibility.PARTIES)
    assert all(e.actor_role is None and e.actor_id is None for e in view.events)
    moved = [e for e in view.events if e.kind == "stage_changed"]
    assert MOVE_REASON in [m.fields.get("reason") for m in moved]
    assert [(m.from_complainant, m.body) for m in view.messages] == [
        (True, FROM_COMPLAINANT),
        (False, TO_COMPLAINANT),
    ]
    assert [f.name for f in view.files] == ["payslip.pdf"]
    assert {c.name for c in view.companies} == {ALPHA, BETA}
    assert {a.description for a in view.remedy_actions} == {ALPHA_REMEDY, BETA_REMEDY}
    assert view.time_limits
    assert not view.satisfaction_open
    # their own words and what they chose when filing, shown back to them (#15, item 3)
    assert view.words is not None
    assert (view.words.statement, view.words.location) == (STATEMENT, WHERE)
    assert view.language == "bn"
    _absent(
        view,
        NAME,
        PHONE,
        DETAILS,
        REVEAL_REASON,
        TRANSLATION,
        world.lead.display_name,
        world.second.display_name,
        "severity",
        "'channel'",
    )


def test_a_complainant_reads_only_their_own_case(ctx, world):
    other = new_case(ctx, world.case.mechanism)
    with pytest.raises(NotAllowed):
        complainant_view(ctx, world.case, other.complainant)


def test_once_erased_the_complainant_has_no_messages_nor_files(ctx, world, clock):
    world.case.identities_erased_at = clock.now()
    view = complainant_view(ctx, world.case, world.complainant)
    assert view.erased
    assert view.messages == ()
    assert view.files == ()


# -- a company ------------------------------------------------------------------------------


def test_a_company_sees_the_case_and_what_concerns_it_only(ctx, world):
    view = company_view(ctx, world.case, world.alpha)
    assert view.company.name == ALPHA
    assert view.company.involvement is InvolvementKind.CAUSE
    assert view.company.rationale == ALPHA_RATIONALE
    assert view.company.obligations
    assert [a.description for a in view.remedy_actions] == [ALPHA_REMEDY]
    kinds = _kinds(view)
    for kind in ("case_filed", "stage_changed", "company_added", "remedy_action_recorded"):
        assert kind in kinds
    assert kinds.count("company_added") == 1
    assert kinds.count("involvement_classified") == 1
    for kind in (
        "remedy_progress_reported",  # Beta's
        "message_to_complainant",
        "feedback_given",
        "files_added",
        "clock_paused",
        "severity_assessed",
        "reviewer_assigned",
        "identity_revealed",
    ):
        assert kind not in kinds
    _fields_allowed(view, Visibility.PARTIES)
    assert all(e.actor_id is None for e in view.events)
    codes = {limit.code for limit in view.time_limits}
    assert f"remedy_action.{world.alpha_action.id}" in codes
    assert f"remedy_action.{world.beta_action.id}" not in codes
    _absent(
        view,
        BETA,
        BETA_RATIONALE,
        BETA_REMEDY,
        f"remedy_action.{world.beta_action.id}'",
        NAME,
        PHONE,
        DETAILS,
        STATEMENT,
        WHERE,
        FROM_COMPLAINANT,
        TO_COMPLAINANT,
        PAUSE_REASON,
        "payslip.pdf",
        REVEAL_REASON,
        TRANSLATION,
        world.lead.display_name,
    )


def test_company_b_never_holds_company_a_s_private_responses(ctx, world):
    view = company_view(ctx, world.case, world.beta)
    assert [a.description for a in view.remedy_actions] == [BETA_REMEDY]
    assert "remedy_progress_reported" in _kinds(view)  # its own report
    _absent(view, ALPHA, ALPHA_RATIONALE, ALPHA_REMEDY, NAME, STATEMENT, FROM_COMPLAINANT)


def test_a_company_not_in_the_case_sees_nothing(ctx, world):
    with pytest.raises(NotAllowed):
        company_view(ctx, world.case, make_company(ctx, world.case.mechanism))


# -- reviewers and the secretariat ----------------------------------------------------------


def test_an_assigned_reviewer_sees_the_reviewers_log_and_the_words(ctx, world):
    view = reviewer_view(ctx, world.case, world.lead)
    kinds = _kinds(view)
    for kind in ("severity_assessed", "reviewer_assigned", "message_from_complainant"):
        assert kind in kinds
    assert "identity_revealed" not in kinds  # internal: the audit only
    _fields_allowed(view, Visibility.REVIEWERS)
    assigned = next(e for e in view.events if e.kind == "reviewer_assigned")
    assert "score" not in assigned.fields
    assert "reasons" not in assigned.fields
    assert any(e.actor_id == world.lead.id for e in view.events)
    assert view.words is not None
    assert view.words.statement == STATEMENT
    assert view.words.location == WHERE
    assert [t.text for t in view.statement_translations] == [TRANSLATION]
    assert [m.body for m in view.messages] == [FROM_COMPLAINANT, TO_COMPLAINANT]
    assert [m.feedback for m in view.messages] == [False, True]
    assert view.staff.severity is not None
    assert view.staff.severity.scale == 4
    assert view.staff.reprisal_risk is ReprisalRisk.HIGH
    assert view.staff_names[world.lead.id] == world.lead.display_name
    assert [c.anonymity for c in view.complainants] == [Anonymity.CONFIDENTIAL]
    assert {c.name for c in view.companies} == {ALPHA, BETA}
    _absent(view, NAME, PHONE, DETAILS, REVEAL_REASON)


def test_only_the_case_s_reviewers_get_the_reviewer_view(ctx, world):
    with pytest.raises(NotAllowed):
        reviewer_view(ctx, world.case, make_reviewer(ctx, languages=["bn"]))
    [secretariat] = make_secretariat(ctx, world.case.mechanism)
    with pytest.raises(NotAllowed):
        reviewer_view(ctx, world.case, secretariat)


def test_the_secretariat_oversees_without_the_complainant_s_words(ctx, world):
    [secretariat] = make_secretariat(ctx, world.case.mechanism)
    view = secretariat_view(ctx, world.case, secretariat)
    assert "severity_assessed" in _kinds(view)
    assert "identity_revealed" not in _kinds(view)
    _fields_allowed(view, Visibility.REVIEWERS)
    assert {row.reviewer_id for row in view.reviewers} == {world.lead.id, world.second.id}
    _absent(
        view,
        STATEMENT,
        WHERE,
        FROM_COMPLAINANT,
        TO_COMPLAINANT,
        "payslip.pdf",
        TRANSLATION,
        NAME,
        PHONE,
        DETAILS,
        REVEAL_REASON,
    )


def test_the_secretariat_of_another_mechanism_sees_nothing(ctx, world):
    other = new_case(ctx).case.mechanism
    [outsider] = make_secretariat(ctx, other)
    with pytest.raises(NotAllowed):
        secretariat_view(ctx, world.case, outsider)
    with pytest.raises(NotAllowed):
        secretariat_view(ctx, world.case, world.lead)


# -- the public ----------------------------------------------------------------------------


def test_the_public_sees_a_published_case_redacted(ctx, world):
    with pytest.raises(NotAllowed):
        public_view(ctx, world.case)
    _publish(ctx, world)
    view = public_view(ctx, world.case)
    assert set(_kinds(view)) == {"case_filed", "stage_changed"}
    _fields_allowed(view, Visibility.PUBLIC)
    filed = view.events[0]
    assert set(filed.fields) <= {"reference", "mechanism", "themes", "country", "policy_version"}
    assert all(e.actor_role is None for e in view.events)
    _absent(
        view,
        MOVE_REASON,
        ALPHA,
        BETA,
        NAME,
        STATEMENT,
        FROM_COMPLAINANT,
        "deadlines_opened",
        world.lead.display_name,
    )


# -- frozen, and built in a fixed number of queries ----------------------------------------


def test_views_are_frozen(ctx, world):
    view = complainant_view(ctx, world.case, world.complainant)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.stage = Stage.CLOSED  # type: ignore[misc]
    event = next(e for e in view.events if e.kind == "stage_changed")
    with pytest.raises(TypeError):
        event.fields["reason"] = "changed"  # type: ignore[index]
    opened = event.fields["deadlines_opened"]
    assert isinstance(opened, tuple)
    assert isinstance(event.details()["deadlines_opened"], list)  # plain JSON for an API


def test_an_audience_names_its_company_and_only_a_company_does():
    assert Audience.company(3).visibility is Visibility.PARTIES
    assert Audience.reviewer().staff
    assert not Audience.complainant().staff
    with pytest.raises(ValueError, match="company"):
        Audience(Audience.company(3).reader)
    with pytest.raises(ValueError, match="company"):
        Audience(Audience.reviewer().reader, company_id=3)


@contextmanager
def _counted(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    connection = session.connection()
    sa_event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa_event.remove(connection, "before_cursor_execute", count)


def _publish(ctx, world):
    """Make the case public as `transparency.is_published` says: the reprisal risk
    assessed and not high, and its complainant's consent to publish a summary."""
    world.case.reprisal_risk = ReprisalRisk.LOW
    ctx.session.add(
        Consent(
            complainant_id=world.filed.complainant.id,
            purpose="publish_summary",
            granted=True,
            recorded_at=ctx.now(),
        )
    )
    ctx.session.flush()


def _builds(ctx, world):
    [secretariat] = make_secretariat(ctx, world.case.mechanism)
    _publish(ctx, world)
    return {
        "complainant": lambda: complainant_view(ctx, world.case, world.complainant),
        "company": lambda: company_view(ctx, world.case, world.alpha),
        "reviewer": lambda: reviewer_view(ctx, world.case, world.lead),
        "secretariat": lambda: secretariat_view(ctx, world.case, secretariat),
        "public": lambda: public_view(ctx, world.case),
    }


def test_a_longer_log_and_conversation_cost_no_more_queries(ctx, world):
    builds = _builds(ctx, world)
    for build in builds.values():
        build()  # warm: the data key, the mechanism and its policy are loaded once
    ctx.session.flush()
    before = {}
    for name, build in builds.items():
        with _counted(ctx.session) as statements:
            build()
        before[name] = len(statements)
    reviewer = Actor.for_user(world.lead)
    timekeeping.resume_clock(ctx, world.case, reviewer)
    for number in range(8):
        messages.add_message(ctx, world.case, reviewer, f"Message {number}", Channel.WEB)
        messages.add_message(
            ctx,
            world.case,
            Actor.for_complainant(world.complainant),
            f"Answer {number}",
            Channel.SMS,
        )
    translations.add_translation(ctx, world.case, reviewer, "en", "Another translation.")
    ctx.session.flush()
    after = {}
    for name, build in builds.items():
        with _counted(ctx.session) as statements:
            build()
        after[name] = len(statements)
    assert after == before
    assert max(before.values()) < 25
