"""Retention (R30): the identities of an ended case are erased, by deleting its data
key, once the mechanism's retention period has passed; never those of an open case or
of a case under legal hold. The log survives and still verifies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from grievance.crypto.vault import IdentityErased, Vault
from grievance.models import (
    Anonymity,
    Case,
    Channel,
    Complainant,
    ContactChannel,
    Role,
    Stage,
    Visibility,
)
from grievance.models.vault import DataKey
from grievance.services import caselog, cases, involvement, messages
from grievance.services.actors import SYSTEM, Actor
from grievance.services.errors import NotAllowed, ReasonRequired
from grievance.services.filing import ComplainantDetails
from grievance.services.retention import (
    erase_case_identities,
    erase_expired_identities,
    set_legal_hold,
)
from tests.conftest import START
from tests.factories import (
    case_state,
    closed_case,
    events_of,
    make_company,
    make_mechanism,
    make_secretariat,
    make_user,
    staff_case,
    table_counts,
    walk_to,
)

RETENTION = timedelta(days=30)
STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।"


def confidential(phone: str = "+880 1711-000001") -> ComplainantDetails:
    return ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL,
        name="Rahima Akter",
        details="Sewing operator, line 4",
        contact_channel=ContactChannel.SMS,
        contact_address=phone,
    )


@pytest.fixture
def short(ctx):
    """A mechanism that keeps identities 30 days after a case ends."""
    return make_mechanism(
        ctx, code="RET", overrides={"retention": {"identity_days_after_close": 30}}
    )


def data_key(ctx, case: Case) -> DataKey | None:
    return ctx.session.scalar(select(DataKey).where(DataKey.case_id == case.id))


def fresh_vault(ctx) -> Vault:
    """A vault with an empty cache of data keys: it reads them from the database."""
    return Vault(ctx.session, ctx.keyring, ctx.clock.now)


def identity_columns(ctx, complainant: Complainant) -> tuple[Any, ...]:
    ctx.session.refresh(complainant)
    return (
        complainant.name_enc,
        complainant.details_enc,
        complainant.represents_enc,
        complainant.contact_enc,
        complainant.phone_lookup,
    )


def test_identities_are_erased_when_the_retention_period_has_passed(ctx, clock, short):
    filed, lead, second = staff_case(ctx, mechanism=short, complainant=confidential())
    case, complainant = filed.case, filed.complainant
    message = messages.add_message(ctx, case, Actor.for_user(lead), "We received it.", Channel.SMS)
    walk_to(ctx, filed, Stage.CLOSED, lead, second)
    closed_at = case.closed_at
    assert closed_at == START
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == STATEMENT
    assert all(value is not None for value in identity_columns(ctx, complainant)[:2])
    events_before = case.event_count

    clock.set(closed_at + RETENTION - timedelta(seconds=1))
    assert erase_expired_identities(ctx) == []
    assert data_key(ctx, case) is not None
    assert complainant.phone_lookup is not None
    assert events_of(ctx.session, case, "identities_erased") == []

    clock.set(closed_at + RETENTION)
    assert erase_expired_identities(ctx) == [case.reference]
    assert data_key(ctx, case) is None
    for vault in (ctx.vault, fresh_vault(ctx)):
        with pytest.raises(IdentityErased):
            vault.open(case.id, "statement", case.statement_enc)
        with pytest.raises(IdentityErased):
            messages.read_message(ctx, message)
    assert identity_columns(ctx, complainant) == (None, None, None, None, None)
    assert complainant.erased_at == clock.now()
    ctx.session.refresh(case)
    assert case.identities_erased_at == clock.now()

    # the log survives, one event longer, and verifies
    (event,) = events_of(ctx.session, case, "identities_erased")
    assert event.seq == events_before + 1 == case.event_count
    assert (event.actor_role, event.created_at) == (Role.SYSTEM, clock.now())
    assert event.payload == {"complainants": 1, "retention_days": 30}
    assert event.visibility is Visibility.REVIEWERS
    assert len(events_of(ctx.session, case)) == events_before + 1
    assert list(caselog.verify_all(ctx.session)) == []


def test_each_mechanism_keeps_identities_as_long_as_its_policy_says(ctx, clock, short):
    """The shipped default keeps them 730 days; the override, 30."""
    kept_short, _, _ = closed_case(ctx, mechanism=short, complainant=confidential())
    kept_long, _, _ = closed_case(
        ctx, mechanism=make_mechanism(ctx, code="DEF"), complainant=confidential("+8801711000002")
    )
    clock.set(START + RETENTION)
    assert erase_expired_identities(ctx) == [kept_short.case.reference]
    assert data_key(ctx, kept_long.case) is not None
    assert fresh_vault(ctx).open(kept_long.case.id, "statement", kept_long.case.statement_enc)

    clock.set(START + timedelta(days=729))
    assert erase_expired_identities(ctx) == []
    clock.set(START + timedelta(days=730))
    assert erase_expired_identities(ctx) == [kept_long.case.reference]
    assert data_key(ctx, kept_long.case) is None


def test_a_withdrawn_case_is_erased_too(ctx, clock, short):
    filed, _, _ = staff_case(ctx, mechanism=short, complainant=confidential())
    clock.advance(days=2)
    complainant = Actor.for_complainant(filed.complainant)
    cases.transition(ctx, filed.case, Stage.WITHDRAWN, complainant, "Settled with the factory.")
    clock.set(START + timedelta(days=31))
    assert erase_expired_identities(ctx) == []  # withdrawn on day 2: 30 days end on day 32
    clock.set(START + timedelta(days=32))
    assert erase_expired_identities(ctx) == [filed.case.reference]


@pytest.mark.parametrize("stage", [Stage.RECEIVED, Stage.INVESTIGATION, Stage.REMEDY_PLAN])
def test_an_open_case_is_never_erased(ctx, clock, short, stage):
    filed, lead, second = staff_case(ctx, mechanism=short, complainant=confidential())
    walk_to(ctx, filed, stage, lead, second)
    clock.set(START + timedelta(days=3650))
    assert erase_expired_identities(ctx) == []
    erase_case_identities(ctx, filed.case, 30)  # nor when asked directly
    assert data_key(ctx, filed.case) is not None
    assert identity_columns(ctx, filed.complainant)[4] is not None
    assert events_of(ctx.session, filed.case, "identities_erased") == []


def test_erasing_twice_erases_once(ctx, clock, short):
    filed, _, _ = closed_case(ctx, mechanism=short, complainant=confidential())
    clock.set(START + RETENTION)
    assert erase_expired_identities(ctx) == [filed.case.reference]
    state = case_state(ctx.session, filed.case.id)
    clock.advance(days=1)
    assert erase_expired_identities(ctx) == []
    erase_case_identities(ctx, filed.case, 30)  # called again directly: nothing to do
    assert case_state(ctx.session, filed.case.id) == state
    assert len(events_of(ctx.session, filed.case, "identities_erased")) == 1
    assert list(caselog.verify_all(ctx.session)) == []


# -- legal hold -----------------------------------------------------------------------


def test_a_case_under_legal_hold_is_kept_until_the_hold_is_lifted(ctx, clock, short):
    filed, _, _ = closed_case(ctx, mechanism=short, complainant=confidential())
    (secretariat,) = make_secretariat(ctx, short)
    actor = Actor.for_user(secretariat)
    case = set_legal_hold(ctx, filed.case, actor, True, " Labour court claim 2026/117. ")
    assert case.legal_hold is True
    (event,) = events_of(ctx.session, case, "legal_hold_changed")
    assert event.payload == {"legal_hold": True, "reason": "Labour court claim 2026/117."}
    assert (event.actor_id, event.visibility) == (secretariat.id, Visibility.INTERNAL)

    clock.set(START + timedelta(days=400))
    assert erase_expired_identities(ctx) == []
    erase_case_identities(ctx, case, 30)  # nor when asked directly
    assert data_key(ctx, case) is not None
    assert events_of(ctx.session, case, "identities_erased") == []
    assert fresh_vault(ctx).open(case.id, "statement", case.statement_enc) == STATEMENT

    set_legal_hold(ctx, case, actor, False, "The claim was settled.")
    assert erase_expired_identities(ctx) == [case.reference]
    assert data_key(ctx, case) is None
    assert [
        e.payload["legal_hold"] for e in events_of(ctx.session, case, "legal_hold_changed")
    ] == [
        True,
        False,
    ]


def test_a_legal_hold_needs_a_reason(ctx, short):
    filed, _, _ = closed_case(ctx, mechanism=short)
    (secretariat,) = make_secretariat(ctx, short)
    before = table_counts(ctx.session), case_state(ctx.session, filed.case.id)
    with pytest.raises(ReasonRequired):
        set_legal_hold(ctx, filed.case, Actor.for_user(secretariat), True, "  ")
    assert (table_counts(ctx.session), case_state(ctx.session, filed.case.id)) == before
    ctx.session.refresh(filed.case)
    assert filed.case.legal_hold is False


@pytest.mark.parametrize(
    "who",
    [
        "lead reviewer",
        "company of the case",
        "admin",
        "complainant",
        "secretariat of another mechanism",
        "system",
    ],
)
def test_only_the_secretariat_of_the_mechanism_sets_a_legal_hold(ctx, short, who):
    filed, lead, _ = closed_case(ctx, mechanism=short)
    case = filed.case
    company = make_company(ctx, short, name="Dhaka Knitwear")
    involvement.add_company(ctx, case, company, SYSTEM)
    actor = {
        "lead reviewer": lambda: Actor.for_user(lead),
        "company of the case": lambda: Actor.for_user(
            make_user(ctx, Role.COMPANY, company=company)
        ),
        "admin": lambda: Actor.for_user(make_user(ctx, Role.ADMIN)),
        "complainant": lambda: Actor.for_complainant(filed.complainant),
        "secretariat of another mechanism": lambda: Actor.for_user(
            make_secretariat(ctx, make_mechanism(ctx, code="ELS"))[0]
        ),
        "system": lambda: SYSTEM,
    }[who]()
    before = table_counts(ctx.session), case_state(ctx.session, case.id)
    with pytest.raises(NotAllowed):
        set_legal_hold(ctx, case, actor, True, "A court order.")
    assert (table_counts(ctx.session), case_state(ctx.session, case.id)) == before
    ctx.session.refresh(case)
    assert case.legal_hold is False
