"""Partner applications of the JSON API (issue #12, item 9): keys made and revoked by an
administrator, stored hashed, sent as a bearer token, each client with its own limits and
an audit trail; anonymous use keeps the per-address limits."""

from __future__ import annotations

import hmac

import pytest
from sqlalchemy import select

from grievance.models import (
    Anonymity,
    ApiClient,
    Case,
    CaseEvent,
    Channel,
    Role,
)
from grievance.services import api_clients
from grievance.services.actors import Actor
from grievance.services.api_clients import KeyRefusal, KeyRefused
from grievance.services.errors import Code, InvalidInput, NotAllowed
from grievance.services.filing import ComplainantDetails, Filing, file_case
from tests.factories import make_mechanism, make_staff

STATEMENT = "Three months of overtime were never paid at the Gazipur plant."


@pytest.fixture
def mechanism(ctx):
    return make_mechanism(ctx, code="API")


@pytest.fixture
def admin(ctx):
    user, _seed = make_staff(ctx, Role.ADMIN)
    return user


def _new(ctx, admin, per_hour=150, per_day=1500, name="Worker Voice app"):
    return api_clients.create_client(
        ctx,
        Actor.for_user(admin),
        name=name,
        organisation="Awaj Foundation",
        complaints_per_hour=per_hour,
        complaints_per_day=per_day,
    )


# -- storage and comparison -------------------------------------------------------------------


def test_the_hash_is_compared_in_constant_time(ctx, admin, monkeypatch):
    created = _new(ctx, admin)
    compared: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def spy(left: str, right: str) -> bool:
        compared.append((left, right))
        return original(left, right)

    monkeypatch.setattr(api_clients.hmac, "compare_digest", spy)
    assert api_clients.authenticate(ctx, created.key).id == created.client.id
    assert compared == [(created.client.key_hash, created.client.key_hash)]
    compared.clear()
    with pytest.raises(KeyRefused) as refused:
        api_clients.authenticate(ctx, "gmk_000000000000_" + "A" * 43)
    assert refused.value.refusal is KeyRefusal.UNKNOWN
    assert len(compared) == 1  # a key id nobody has costs one comparison too


def test_each_key_is_new(ctx, admin):
    first, second = _new(ctx, admin), _new(ctx, admin, name="Helpline")
    assert first.key != second.key
    assert first.client.key_id != second.client.key_id
    assert api_clients.KEY_PATTERN.fullmatch(first.key)


# -- the service's rules --------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.SECRETARIAT, Role.COMPANY])
def test_only_administrators_manage_clients(ctx, admin, role):
    user, _seed = make_staff(ctx, role, totp=False)
    with pytest.raises(NotAllowed):
        _new(ctx, user)
    created = _new(ctx, admin)
    with pytest.raises(NotAllowed):
        api_clients.revoke_client(ctx, Actor.for_user(user), created.client)
    with pytest.raises(NotAllowed):
        api_clients.recent_uses(ctx, Actor.for_user(user), created.client)
    assert created.client.revoked_at is None


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": "  "}, "name", Code.REQUIRED),
        ({"name": "x" * 121}, "name", Code.TOO_LONG),
        ({"organisation": ""}, "organisation", Code.REQUIRED),
        ({"complaints_per_hour": 0}, "complaints_per_hour", Code.OUT_OF_RANGE),
        ({"complaints_per_hour": 10_001}, "complaints_per_hour", Code.OUT_OF_RANGE),
        ({"complaints_per_day": 99}, "complaints_per_day", Code.OUT_OF_RANGE),  # below the hour's
        ({"complaints_per_day": 100_001}, "complaints_per_day", Code.OUT_OF_RANGE),
    ],
)
def test_a_client_breaking_a_rule_is_refused(ctx, admin, changes, field, code):
    values = {
        "name": "Worker Voice app",
        "organisation": "Awaj Foundation",
        "complaints_per_hour": 100,
        "complaints_per_day": 1000,
        **changes,
    }
    with pytest.raises(InvalidInput) as refused:
        api_clients.create_client(ctx, Actor.for_user(admin), **values)
    assert refused.value.errors == {field: code}
    assert ctx.session.scalar(select(ApiClient.id)) is None


def test_revoking_twice_changes_nothing_the_second_time(ctx, admin, clock):
    created = _new(ctx, admin)
    assert api_clients.revoke_client(ctx, Actor.for_user(admin), created.client)
    revoked_at = created.client.revoked_at
    clock.advance(hours=1)
    assert not api_clients.revoke_client(ctx, Actor.for_user(admin), created.client)
    assert created.client.revoked_at == revoked_at
    assert created.client.revoked_by_id == admin.id


def test_last_used_is_kept_to_the_minute(ctx, admin, clock):
    created = _new(ctx, admin)
    api_clients.authenticate(ctx, created.key)
    first = created.client.last_used_at
    assert first == clock.now()
    clock.advance(seconds=30)
    api_clients.authenticate(ctx, created.key)
    assert created.client.last_used_at == first
    clock.advance(seconds=30)
    api_clients.authenticate(ctx, created.key)
    assert created.client.last_used_at == clock.now()


@pytest.mark.parametrize("revoked", [True, False])
def test_the_filing_service_takes_an_active_client_through_the_api_only(
    ctx, mechanism, admin, revoked
):
    created = _new(ctx, admin)
    if revoked:
        api_clients.revoke_client(ctx, Actor.for_user(admin), created.client)
    filing = Filing(
        mechanism=mechanism,
        channel=Channel.API if revoked else Channel.WEB,
        language="en",
        statement=STATEMENT,
        complainant=ComplainantDetails(anonymity=Anonymity.ANONYMOUS),
        api_client=created.client,
    )
    with pytest.raises(NotAllowed):
        file_case(ctx, filing, Actor(role=Role.COMPLAINANT))
    assert ctx.session.scalar(select(Case.id)) is None


def test_a_client_files_through_the_api_and_the_first_event_names_it(ctx, mechanism, admin):
    created = _new(ctx, admin)
    filing = Filing(
        mechanism=mechanism,
        channel=Channel.API,
        language="en",
        statement=STATEMENT,
        complainant=ComplainantDetails(anonymity=Anonymity.ANONYMOUS),
        api_client=created.client,
    )
    filed = file_case(ctx, filing, Actor(role=Role.COMPLAINANT))
    event = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == filed.case.id, CaseEvent.kind == "case_filed")
    ).one()
    assert event.payload["api_client_id"] == created.client.id
    assert event.payload["api_client"] == "Worker Voice app (Awaj Foundation)"
