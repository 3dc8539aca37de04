"""The demo data: loaded once for this module through the real services, then inspected."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from grievance.clock import FixedClock
from grievance.config import TEST_KDF
from grievance.crypto.keyring import Keyring
from grievance.crypto.secrets import verify_password
from grievance.demo import DEMO_PASSWORD, Report, demo_logins, load_demo, read_data
from grievance.extensions import db
from grievance.models import (
    Assignment,
    Base,
    Case,
    CaseEvent,
    CaseTheme,
    Channel,
    Company,
    Conflict,
    Direction,
    InboundSms,
    Involvement,
    Mechanism,
    Message,
    OutboundMessage,
    OutboxStatus,
    Role,
    Site,
    SmsConversation,
    Stage,
    User,
)
from grievance.policies import default_policy
from grievance.services import caselog
from grievance.services.context import Context
from tests.apps import patch_services
from tests.conftest import START


@dataclass
class Demo:
    session: Session
    ctx: Context
    report: Report


@pytest.fixture(scope="module")
def demo(_app: Flask, session_clock: FixedClock, keyring: Keyring) -> Iterator[Demo]:
    """The demo loaded once, in a transaction rolled back after the module (the `session`
    fixture's set-up, at module scope: loading takes seconds)."""
    session_clock.set(START)
    with _app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        scoped = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        original = db.session
        db.session = scoped
        try:
            ctx = Context(session=scoped(), clock=session_clock, keyring=keyring, kdf=TEST_KDF)
            report = load_demo(ctx)
            ctx.session.flush()
            yield Demo(ctx.session, ctx, report)
        finally:
            scoped.remove()
            db.session = original
            transaction.rollback()
            connection.close()


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def table_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


# -- what is loaded ---------------------------------------------------------------------------


def test_first_load_creates_the_demo(demo):
    report = demo.report
    assert report.created is True
    assert report.counts["mechanisms"] == 2
    assert 8 <= report.counts["companies"] <= 9
    assert report.counts["reviewers"] == 5
    assert 25 <= report.counts["cases"] <= 35
    assert report.counts["of them by text message"] >= 3
    assert "2 mechanisms" in report.summary
    assert report.logins == demo_logins(read_data())


def test_rows_match_the_report(demo):
    session, counts = demo.session, demo.report.counts
    assert count(session, Mechanism) == counts["mechanisms"] == 2
    assert count(session, Company) == counts["companies"]
    assert count(session, Site) == counts["sites"]
    assert count(session, Case) == counts["cases"]
    reviewers = session.scalar(select(func.count(User.id)).where(User.role == Role.REVIEWER))
    assert reviewers == counts["reviewers"] == 5
    staff = session.scalar(select(func.count(User.id)).where(User.role != Role.REVIEWER))
    assert staff == counts["staff users"]


def test_cases_cover_every_stage(demo):
    stages = set(demo.session.scalars(select(Case.stage).distinct()))
    assert stages == set(Stage)


def test_cases_cover_every_theme_of_the_default_policy(demo):
    themes = set(demo.session.scalars(select(CaseTheme.theme).distinct()))
    assert themes == set(default_policy().theme_codes)


def test_cases_cover_every_channel(demo):
    channels = set(demo.session.scalars(select(Case.channel).distinct()))
    assert channels == set(Channel)


def test_cases_use_both_mechanisms(demo):
    per_mechanism = demo.session.execute(
        select(Mechanism.code, func.count(Case.id)).join(Case).group_by(Mechanism.code)
    ).all()
    assert {code for code, number in per_mechanism if number > 0} == {"TEX", "NST"}


def test_every_log_verifies(demo):
    assert list(caselog.verify_all(demo.session)) == []
    events = demo.session.scalar(select(func.count(CaseEvent.id)))
    assert events > 5 * demo.report.counts["cases"]  # plausible histories, not just filings
    latest = demo.session.scalar(select(func.max(CaseEvent.created_at)))
    assert latest <= demo.ctx.now()


def test_every_case_has_two_reviewers(demo):
    rows = demo.session.execute(
        select(Assignment.case_id, func.count(Assignment.id))
        .where(Assignment.ended_at.is_(None))
        .group_by(Assignment.case_id)
    ).all()
    assert len(rows) == demo.report.counts["cases"]
    assert {number for _case, number in rows} == {2}


def test_no_reviewer_is_assigned_to_a_case_they_declared_a_conflict_with(demo):
    session = demo.session
    companies_of: dict[int, set[int]] = defaultdict(set)
    for case_id, company_id in session.execute(select(Involvement.case_id, Involvement.company_id)):
        companies_of[case_id].add(company_id)
    sites_of: dict[int, set[int]] = defaultdict(set)
    for case_id, site_id, site_company in session.execute(
        select(Case.id, Case.site_id, Site.company_id).join(Site, Case.site_id == Site.id)
    ):
        sites_of[case_id].add(site_id)
        companies_of[case_id].add(site_company)
    conflicts = session.execute(
        select(Conflict.reviewer_id, Conflict.company_id, Conflict.site_id)
    ).all()
    assert len(conflicts) >= 4

    # Which cases each reviewer may not touch (computed here, not by the service).
    barred: dict[int, set[int]] = defaultdict(set)
    for reviewer_id, company_id, site_id in conflicts:
        for case_id in set(companies_of) | set(sites_of):
            if company_id in companies_of[case_id] or site_id in sites_of[case_id]:
                barred[reviewer_id].add(case_id)
    # The data makes avoiding conflicts matter: several conflicts touch demo cases.
    assert sum(len(cases) for cases in barred.values()) >= 3
    assert len(barred) >= 3

    assignments = session.execute(
        select(Assignment.reviewer_id, Assignment.case_id, Assignment.end_reason)
    ).all()
    assert assignments
    for reviewer_id, case_id, end_reason in assignments:
        # routed at filing, before the companies were known, a reviewer may have been on
        # such a case: they left it when the company came in (routing, R06)
        if case_id in barred[reviewer_id]:
            assert (end_reason or "").startswith("conflict"), (reviewer_id, case_id, end_reason)


def test_demo_accounts_use_the_injected_kdf(demo):
    hashes = demo.session.scalars(select(User.password_hash)).all()
    assert hashes
    cost = f"m={TEST_KDF.memory_cost_kib},t={TEST_KDF.time_cost},p={TEST_KDF.parallelism}"
    assert all(cost in hashed for hashed in hashes)
    assert verify_password(hashes[0], DEMO_PASSWORD, TEST_KDF)


def test_statements_are_encrypted(demo):
    data = read_data()
    statements = [entry["statement"].encode() for entry in data["case"]]
    for blob in demo.session.scalars(select(Case.statement_enc)):
        assert all(statement[:40] not in blob for statement in statements)


def test_cases_are_filed_through_the_sms_dialogue(demo):
    session = demo.session
    texted = read_data()["sms_case"]
    assert len(texted) >= 3
    filed = session.execute(
        select(Case.channel, Case.language, Mechanism.code, SmsConversation.stage)
        .join(SmsConversation, SmsConversation.case_id == Case.id)
        .join(Mechanism, Mechanism.id == Case.mechanism_id)
    ).all()
    assert len(filed) == len(texted) == demo.report.counts["of them by text message"]
    assert {stage for *_rest, stage in filed} == {"filed"}
    assert {channel for channel, *_rest in filed} == {Channel.SMS, Channel.WHATSAPP}
    assert {(language, code) for _channel, language, code, _stage in filed} >= {
        ("bn", "TEX"),
        ("ta", "TEX"),
        ("en", "NST"),
    }
    # every message read by the dialogue, and emptied
    inbound = session.scalars(select(InboundSms)).all()
    assert len(inbound) >= sum(len(entry["messages"]) for entry in texted)
    assert all(row.processed_at is not None and row.body_enc == b"" for row in inbound)
    # the complainants' later texts reached their cases
    answers = session.scalar(
        select(func.count(Message.id))
        .join(SmsConversation, SmsConversation.case_id == Message.case_id)
        .where(Message.direction == Direction.FROM_COMPLAINANT)
    )
    assert answers == sum(
        1 for entry in texted for item in entry["follow_up"] if item["sender"] == "complainant"
    )


def test_nothing_waits_to_be_sent_to_the_fake_numbers(demo):
    rows = demo.session.scalars(select(OutboundMessage)).all()
    assert len(rows) > 3 * len(read_data()["sms_case"])  # the dialogue answered them
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert all(row.address_enc is None and row.body_enc == b"" for row in rows)


def test_no_demo_phone_number_is_in_clear_in_the_database(demo):
    numbers = [entry["number"] for entry in read_data()["sms_case"]]
    # E.164, its digits, and the subscriber number (the last nine digits)
    forms = {form for number in numbers for form in (number, number[1:], number[-9:])}
    forms.add("+88017000")  # the prefix of the numbers the loader makes for `case`
    found = []
    for table in Base.metadata.sorted_tables:
        for row in demo.session.execute(select(table)):
            for column, value in zip(table.columns, row, strict=True):
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                found += [(table.name, column.name) for form in forms if form in text]
    assert found == []


# -- loading again --------------------------------------------------------------------------------


def test_second_load_changes_nothing(demo):
    before = table_counts(demo.session)
    report = load_demo(demo.ctx)
    demo.session.flush()
    assert report.created is False
    assert report.counts == {}
    assert report.logins == demo.report.logins
    assert table_counts(demo.session) == before


def test_demo_command_reports_the_demo_is_present(app, demo):
    before = table_counts(demo.session)
    result = app.test_cli_runner().invoke(args=["grievance", "demo-data"])
    assert result.exit_code == 0, result.output
    assert "Demo data already present: nothing changed." in result.output
    assert DEMO_PASSWORD in result.output
    for _role, email in demo.report.logins:
        assert email in result.output
    assert table_counts(demo.session) == before


def test_the_command_refuses_production(app, session, settings, monkeypatch):
    """Demo accounts share one known password and no second factor: never in production."""
    patch_services(monkeypatch, app, settings=replace(settings, env="production"))
    result = app.test_cli_runner().invoke(args=["grievance", "demo-data"])
    assert result.exit_code == 2
    assert "never runs in production" in result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_the_multi_company_case_shows_the_company_side(demo):
    """#13: a case with a supplier that causes, a brand that contributes and a brand
    linked, each classified with four eyes, obligations in several states, and each
    demo company user with cases to work on."""
    from grievance.models import (
        Involvement,
        InvolvementProposal,
        InvolvementProposalState,
        Obligation,
        ObligationStatus,
        Role,
        User,
    )

    session = demo.session
    kinds = {}
    for row in session.scalars(select(Involvement).where(Involvement.superseded_at.is_(None))):
        kinds.setdefault(row.case_id, set()).add(row.kind)
    assert any(len({k for k in found if k}) == 3 for found in kinds.values())
    confirmed = session.scalars(select(InvolvementProposal.state).distinct()).all()
    assert InvolvementProposalState.CONFIRMED in confirmed
    statuses = set(session.scalars(select(Obligation.status).distinct()))
    assert {
        ObligationStatus.OPEN,
        ObligationStatus.FULFILLED,
        ObligationStatus.NOT_FULFILLED,
    } <= statuses
    assert session.scalar(select(func.count()).where(Obligation.reported_status.is_not(None)))
    for user in session.scalars(select(User).where(User.role == Role.COMPANY)):
        assert session.scalar(
            select(func.count())
            .select_from(Involvement)
            .where(Involvement.company_id == user.company_id, Involvement.superseded_at.is_(None))
        ), user.email


def test_the_worker_signs_a_checkpoint_of_the_demo_at_start_and_some_cases_are_published(demo):
    """`make run` starts the worker beside the server; its first run (at start) integrates
    every demo event and signs a checkpoint. Some demo cases are published (consent and a
    reprisal risk assessed, not high) and verify from the endpoint's view; some are
    withheld."""
    from grievance.models import Visibility
    from grievance.scheduler import JOBS
    from grievance.services import transparency

    job = next(job for job in JOBS if job.name == "transparency log")
    assert job.seconds <= 300
    done = transparency.integrate(demo.ctx, "demo.test/transparency")
    assert done is not None
    assert done.checkpoint is not None
    assert done.size >= demo.session.scalar(select(func.count(CaseEvent.id)))
    every = demo.session.scalars(select(Case).order_by(Case.id)).all()
    published = [case for case in every if transparency.is_published(demo.ctx, case)]
    assert published, "no demo case is published"
    assert len(published) < len(every), "every demo case is published: none withheld"
    view = transparency.case_log(demo.ctx, published[0], Visibility.PUBLIC)
    assert view["head_hash"] == published[0].log_head
    assert view["tree_size"] == done.size


def test_the_demo_reviewers_have_room_for_a_newcomers_complaints(demo):
    """#15, item 8: the demo's capacities leave room: a dozen new complaints, in both
    mechanisms, each get their two reviewers (none waits unrouted)."""
    from tests.factories import new_case

    nested = demo.session.begin_nested()
    try:
        mechanisms = demo.session.scalars(select(Mechanism).order_by(Mechanism.code)).all()
        for number in range(12):
            mechanism = mechanisms[number % len(mechanisms)]
            filed = new_case(demo.ctx, mechanism, language="en")
            assert filed.case.unrouted_since is None, (number, filed.case.unrouted_reason)
    finally:
        nested.rollback()


def test_two_bengali_cases_carry_their_reasons_translated_for_the_complainant(demo):
    """#15, item 4: c01 and c03's English reasons have a Bengali translation attached; the
    other Bengali cases' do not (their reviewers see the warning)."""
    from grievance.models import Translation

    rows = demo.session.scalars(select(Translation).where(Translation.event_seq.is_not(None)))
    translated = {(row.case_id, row.language) for row in rows}
    assert len(translated) == 2
    assert {language for _case, language in translated} == {"bn"}


def test_the_demo_registry_has_published_cases_in_both_mechanisms_with_summaries(demo):
    """#16, items 1 and 6: each mechanism's registry lists published cases, each with an
    approved public summary; cases with a high reprisal risk are withheld."""
    from grievance.models import Mechanism, ReprisalRisk
    from grievance.services import registry, transparency

    every = demo.session.scalars(select(Case)).all()
    for mechanism in demo.session.scalars(select(Mechanism)):
        entries = registry.page(demo.ctx, mechanism, size=1000).entries
        assert entries, mechanism.code
        assert all(entry.summary is not None for entry in entries), mechanism.code
        listed = {entry.reference for entry in entries}
        mine = [case for case in every if case.mechanism_id == mechanism.id]
        assert listed == {c.reference for c in mine if transparency.is_published(demo.ctx, c)}
    risky = [case for case in every if case.reprisal_risk is ReprisalRisk.HIGH]
    assert risky
    assert not any(transparency.is_published(demo.ctx, case) for case in risky)
