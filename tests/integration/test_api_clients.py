"""Partner applications of the JSON API (issue #12, item 9): keys made and revoked by an
administrator, stored hashed, sent as a bearer token, each client with its own limits and
an audit trail; anonymous use keeps the per-address limits."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import inspect, select

from grievance.models import (
    Anonymity,
    ApiClient,
    ApiClientUse,
    ApiUseOutcome,
    Case,
    CaseEvent,
    Channel,
    Role,
    Visibility,
)
from grievance.services import api_clients, caselog
from grievance.services.actors import Actor
from grievance.services.api_clients import KeyRefusal, KeyRefused
from grievance.services.errors import Code, InvalidInput, NotAllowed
from grievance.services.filing import ComplainantDetails, Filing, file_case
from intake import api
from tests.factories import make_mechanism, make_staff

STATEMENT = "Three months of overtime were never paid at the Gazipur plant."
ADDRESS = {"REMOTE_ADDR": "198.51.100.20"}


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


def _file(client, key: str | None = None, headers: dict[str, str] | None = None, **environ):
    body = {"mechanism": "API", "language": "en", "statement": STATEMENT}
    sent = dict(headers or {})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    return client.post(
        "/api/v1/complaints", json=body, headers=sent, environ_base={**ADDRESS, **environ}
    )


def _uses(ctx, client: ApiClient) -> list[ApiClientUse]:
    return list(
        ctx.session.scalars(
            select(ApiClientUse)
            .where(ApiClientUse.client_id == client.id)
            .order_by(ApiClientUse.id)
        )
    )


# -- limits ---------------------------------------------------------------------------------


def test_a_partner_files_100_complaints_in_an_hour_while_an_anonymous_client_stops_at_20(
    app, ctx, mechanism, admin
):
    created = _new(ctx, admin)
    http = app.test_client()
    partner = [_file(http, created.key).status_code for _ in range(100)]
    assert partner == [201] * 100
    # the same address without a key: today's per-address limits, untouched by the partner
    anonymous = [_file(http).status_code for _ in range(21)]
    assert anonymous == [201] * 20 + [429]
    refused = _file(http)
    assert refused.get_json() == {
        "errors": [{"path": "", "message": "Too many requests; try again later."}]
    }
    assert ctx.session.query(Case).count() == 120
    # and the partner still files: its budget is its own
    assert _file(http, created.key).status_code == 201


def test_a_partner_over_its_own_limits_is_stopped_and_the_trail_says_so(app, ctx, mechanism, admin):
    created = _new(ctx, admin, per_hour=3, per_day=5)
    http = app.test_client()
    statuses = [_file(http, created.key).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    response = _file(http, created.key)
    assert response.headers["X-RateLimit-Limit"] == "3"
    outcomes = [use.outcome for use in _uses(ctx, created.client)]
    assert outcomes == [ApiUseOutcome.ACCEPTED] * 3 + [ApiUseOutcome.RATE_LIMITED] * 2


def test_two_partners_on_one_address_count_apart(app, ctx, mechanism, admin):
    first = _new(ctx, admin, per_hour=2, per_day=2)
    second = _new(ctx, admin, per_hour=2, per_day=2, name="Helpline")
    http = app.test_client()
    assert [_file(http, first.key).status_code for _ in range(3)] == [201, 201, 429]
    assert [_file(http, second.key).status_code for _ in range(3)] == [201, 201, 429]


# -- refused keys ---------------------------------------------------------------------------


def test_a_revoked_key_gets_401_and_files_nothing(app, ctx, mechanism, admin):
    created = _new(ctx, admin)
    assert api_clients.revoke_client(ctx, Actor.for_user(admin), created.client)
    response = _file(app.test_client(), created.key)
    assert response.status_code == 401
    assert response.get_json() == {
        "errors": [{"path": "", "message": "The API key is wrong or revoked."}]
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert ctx.session.scalar(select(Case.id)) is None
    [use] = _uses(ctx, created.client)
    assert (use.outcome, use.status, use.case_id) == (ApiUseOutcome.REVOKED_KEY, 401, None)


@pytest.mark.parametrize(
    "authorization",
    [
        "wrong secret",
        "Bearer gmk_000000000000_" + "A" * 43,  # a key id no client has
        "Bearer not-a-key",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "",
    ],
)
def test_a_wrong_key_gets_401_and_files_nothing(app, ctx, mechanism, admin, authorization):
    created = _new(ctx, admin)
    if authorization == "wrong secret":  # the client's key id with another secret
        authorization = f"Bearer {created.client.key_id}_{'B' * 43}"
    response = _file(app.test_client(), headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["path"] == ""
    assert ctx.session.scalar(select(Case.id)) is None
    expected = [ApiUseOutcome.WRONG_KEY] if created.client.key_id in authorization else []
    assert [use.outcome for use in _uses(ctx, created.client)] == expected


def test_wrong_keys_count_against_the_address(app, ctx, mechanism):
    """A key is refused after the per-address limits have counted the request: trying
    keys costs an address its budget like filing does."""
    http = app.test_client()
    wrong = {"Authorization": "Bearer gmk_000000000000_" + "A" * 43}
    statuses = [_file(http, headers=wrong).status_code for _ in range(21)]
    assert statuses == [401] * 20 + [429]
    assert _file(http).status_code == 429


def test_the_followup_endpoints_refuse_a_wrong_key_too(app, ctx, mechanism, admin):
    created = _new(ctx, admin)
    http = app.test_client()
    code = _file(http).get_json()["receipt_code"]
    bad = {"Authorization": f"Bearer {created.client.key_id}_{'C' * 43}"}
    response = http.post("/api/v1/followup", json={"receipt_code": code}, headers=bad)
    assert response.status_code == 401
    good = {"Authorization": f"Bearer {created.key}"}
    assert (
        http.post("/api/v1/followup", json={"receipt_code": code}, headers=good).status_code == 200
    )
    assert [(use.endpoint, use.outcome) for use in _uses(ctx, created.client)] == [
        ("followup", ApiUseOutcome.WRONG_KEY),
        ("followup", ApiUseOutcome.ACCEPTED),
    ]


# -- storage and comparison -------------------------------------------------------------------


def test_the_key_is_not_in_the_database_in_clear(app, ctx, mechanism, admin):
    created = _new(ctx, admin)
    key = created.key
    assert key.startswith(f"{created.client.key_id}_")
    secret = key.removeprefix(f"{created.client.key_id}_")
    assert len(secret) == 43  # 256 random bits, base64url
    _file(app.test_client(), key)
    ctx.session.flush()
    ctx.session.expire_all()
    row = ctx.session.get(ApiClient, created.client.id)
    assert row is not None
    for column in inspect(ApiClient).columns:
        value = str(getattr(row, column.key))
        assert key not in value, column.key
        assert secret not in value, column.key
        assert secret[:16] not in value, column.key
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    # nor anywhere else: no table holds the key, or its secret part
    for table in ApiClient.metadata.sorted_tables:
        for values in ctx.session.execute(select(table)):
            assert not any(secret in str(value) for value in values), table.name


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


# -- the audit trail and the case -----------------------------------------------------------


def test_the_audit_trail_records_each_use_without_an_address(app, ctx, mechanism, admin):
    created = _new(ctx, admin)
    http = app.test_client()
    headers = {"Authorization": f"Bearer {created.key}"}
    filed = _file(http, created.key)
    assert filed.status_code == 201
    reference = filed.get_json()["reference"]
    refused = http.post(
        "/api/v1/complaints",
        json={"mechanism": "NOPE", "language": "en", "statement": STATEMENT},
        headers=headers,
        environ_base=ADDRESS,
    )
    assert refused.status_code == 422
    unknown = http.post(
        "/api/v1/followup", json={"receipt_code": "9" * 16}, headers=headers, environ_base=ADDRESS
    )
    assert unknown.status_code == 404
    assert http.get("/api/v1/openapi.json", headers=headers).status_code == 200  # not a use

    uses = _uses(ctx, created.client)
    assert [(use.endpoint, use.outcome, use.status) for use in uses] == [
        ("complaints", ApiUseOutcome.ACCEPTED, 201),
        ("complaints", ApiUseOutcome.REFUSED, 422),
        ("followup", ApiUseOutcome.REFUSED, 404),
    ]
    first_case = ctx.session.scalars(select(Case).where(Case.reference == reference)).one()
    assert uses[0].case_id == first_case.id
    assert uses[1].case_id is None
    columns = {column.key for column in inspect(ApiClientUse).columns}
    assert columns == {"id", "client_id", "at", "endpoint", "outcome", "status", "case_id"}
    for use in uses:
        assert ADDRESS["REMOTE_ADDR"] not in repr([getattr(use, c) for c in columns])
    assert ctx.session.get(ApiClient, created.client.id).last_used_at == ctx.now()
    listed = api_clients.recent_uses(ctx, Actor.for_user(admin), created.client)
    assert [use.reference for use in listed][-1] == reference  # newest first


def test_the_case_names_the_partner_in_its_log_for_reviewers(app, ctx, mechanism, admin):
    created = _new(ctx, admin)
    assert _file(app.test_client(), created.key).status_code == 201
    case = ctx.session.scalars(select(Case)).one()
    assert case.channel is Channel.API
    event = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "case_filed")
    ).one()
    assert event.payload["api_client_id"] == created.client.id
    assert event.payload["api_client"] == "Worker Voice app (Awaj Foundation)"
    reviewers = caselog.visible_payload(event, Visibility.REVIEWERS)
    assert reviewers["api_client"] == "Worker Voice app (Awaj Foundation)"
    for audience in (Visibility.PARTIES, Visibility.PUBLIC):
        assert "api_client" not in caselog.visible_payload(event, audience)
        assert "api_client_id" not in caselog.visible_payload(event, audience)


def test_an_anonymous_filing_names_no_partner(app, ctx, mechanism):
    assert _file(app.test_client()).status_code == 201
    event = ctx.session.scalars(select(CaseEvent).where(CaseEvent.kind == "case_filed")).one()
    assert "api_client" not in event.payload
    assert "api_client_id" not in event.payload
    assert ctx.session.scalar(select(ApiClientUse.id)) is None


def test_the_openapi_document_offers_the_bearer_scheme(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {"partnerKey": {**schemes["partnerKey"], "type": "http", "scheme": "bearer"}}
    for path in document["paths"].values():
        operation = path["post"]
        assert operation["security"] == [{}, {"partnerKey": []}]  # optional
        assert "401" in operation["responses"]


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


def test_a_request_that_fails_is_in_the_trail_and_files_nothing(app, ctx, mechanism, admin):
    created = _new(ctx, admin)
    ctx.session.commit()  # as the admin page does (the request's rollback keeps it)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "file_case", broken)
        patch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
        response = _file(app.test_client(), created.key)
    assert response.status_code == 500
    assert ctx.session.scalar(select(Case.id)) is None
    [use] = _uses(ctx, created.client)
    assert (use.outcome, use.status, use.case_id) == (ApiUseOutcome.FAILED, 500, None)
