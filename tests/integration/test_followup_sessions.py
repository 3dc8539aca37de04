"""The complainant's session (issue #12, item 4). It was only a signed cookie holding the
complainant's id: after sign-out a copy of the cookie still opened the case and
downloaded a file, and one used every 30 minutes never expired. Now it is a row on the
server (`followup_session`, `services/followup_sessions.py`) that sign-out ends, with an
absolute lifetime of two hours; the cookie holds only a random token."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from grievance.models import Complainant, Direction, FollowupSession, Message
from grievance.services import attachments, followup_sessions
from grievance.services.actors import Actor
from grievance.services.attachments import check_file
from tests.factories import staff_case
from tests.integration.test_followup import _sign_in, _token
from tests.media import pdf_document

PDF = pdf_document("payslip of March")
COOKIE = "intake"


@pytest.fixture
def filed(ctx):
    """A case with a file the complainant sent."""
    filed, _lead, _second = staff_case(ctx)
    (row,) = attachments.attach(
        ctx, filed.case, Actor.for_complainant(filed.complainant), [check_file("pay.pdf", PDF)]
    )
    return SimpleNamespace(
        case=filed.case,
        complainant=filed.complainant,
        receipt_code=filed.receipt_code,
        file_id=row.id,
    )


def _cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _copy(app, client):
    """Another browser holding a copy of the client's intake cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, _cookie(client))
    return other


def _opens(client) -> bool:
    return client.get("/follow-up/case?lang=en").status_code == 200


def _rows(ctx) -> list[FollowupSession]:
    return list(ctx.session.scalars(select(FollowupSession).order_by(FollowupSession.id)))


def test_after_sign_out_a_copied_cookie_opens_nothing_and_downloads_nothing(app, ctx, filed):
    client = app.test_client()
    assert _sign_in(client, filed.receipt_code).status_code == 302
    page = client.get("/follow-up/case").get_data(as_text=True)
    copy = _copy(app, client)  # the cookie, its CSRF token included
    assert _opens(copy)  # a copy works while the session runs
    assert copy.get(f"/follow-up/files/{filed.file_id}").status_code == 200
    assert client.post("/follow-up/sign-out", data={"csrf_token": _token(page)}).status_code == 302

    assert not _opens(copy)
    assert copy.get("/follow-up/case").headers["Location"].endswith("/follow-up")
    download = copy.get(f"/follow-up/files/{filed.file_id}")
    assert download.status_code == 302
    assert download.data != PDF
    sent = copy.post("/follow-up/case?lang=en", data={"csrf_token": _token(page), "body": "Hi"})
    assert sent.status_code == 401  # the sign-in page, the text carried along, nothing sent
    written = select(Message).where(Message.direction == Direction.FROM_COMPLAINANT)
    assert ctx.session.scalars(written).all() == []
    (row,) = _rows(ctx)
    assert row.revoked_at is not None


def test_a_session_used_every_few_minutes_still_ends_two_hours_after_signing_in(
    app, ctx, clock, filed
):
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    for _ in range(4):  # 1 h 40 min, never silent for long
        clock.advance(minutes=25)
        assert _opens(client)
    clock.advance(minutes=19)  # 1 h 59 min
    assert _opens(client)
    clock.advance(minutes=1)  # 2 h
    assert not _opens(client)
    assert client.get(f"/follow-up/files/{filed.file_id}").status_code == 302
    assert _sign_in(client, filed.receipt_code).status_code == 302  # the code opens it again
    assert _opens(client)


def test_thirty_minutes_of_silence_end_it(app, clock, filed):
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    clock.advance(minutes=29)
    assert _opens(client)
    clock.advance(minutes=30)
    assert not _opens(client)


def _payload(value: str) -> dict:
    """What anyone who sees the cookie reads in it: it is signed, not sealed."""
    data = value.removeprefix(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if value.startswith("."):
        raw = zlib.decompress(raw)
    return json.loads(raw)


def test_the_cookie_holds_a_random_token_and_no_complainant_id(app, ctx, filed):
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    value = _cookie(client)
    session = app.session_interface.get_signing_serializer(app).loads(value)  # type: ignore[attr-defined]
    assert _payload(value) == session
    assert set(session) <= {"followup", "csrf_token"}
    token = session["followup"]
    assert len(token) >= 43  # 256 bits
    complainant_id = filed.complainant.id
    assert complainant_id not in session.values()
    assert f'"id":{complainant_id}' not in json.dumps(session, separators=(",", ":"))
    # the server keeps the token's hash only
    (row,) = _rows(ctx)
    assert row.token_hash == hashlib.sha256(token.encode()).digest()
    assert row.complainant_id == complainant_id
    assert token.encode() not in repr(row.__dict__).encode()


def test_signing_in_again_ends_the_browsers_earlier_session(app, ctx, filed):
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    earlier = _copy(app, client)
    _sign_in(client, filed.receipt_code)
    assert _opens(client)
    assert not _opens(earlier)
    assert [row.revoked_at is not None for row in _rows(ctx)] == [True, False]


def test_the_worker_deletes_the_sessions_that_ended(app, ctx, clock, filed):
    complainant = ctx.session.get_one(Complainant, filed.complainant.id)
    signed_out = followup_sessions.start_session(ctx, complainant)
    followup_sessions.end_session(ctx, signed_out)
    followup_sessions.start_session(ctx, complainant)  # goes silent
    clock.advance(minutes=20)
    running = followup_sessions.start_session(ctx, complainant)
    clock.advance(minutes=15)
    assert followup_sessions.purge_sessions(ctx) == 2
    (kept,) = _rows(ctx)
    assert kept.token_hash == hashlib.sha256(running.encode()).digest()
    assert followup_sessions.resume_session(ctx, running) is not None
    assert followup_sessions.resume_session(ctx, signed_out) is None
    assert followup_sessions.resume_session(ctx, "no such token") is None


def test_the_api_follow_up_takes_the_code_with_each_request_and_keeps_no_session(app, ctx, filed):
    client = app.test_client()
    response = client.post("/api/v1/followup", json={"receipt_code": filed.receipt_code})
    assert response.status_code == 200
    assert response.get_json()["reference"] == filed.case.reference
    assert _rows(ctx) == []
    assert client.get_cookie(COOKIE) is None


def test_a_session_of_the_old_kind_opens_nothing(app, filed):
    """A cookie signed before the sessions were kept on the server held the id."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    old = serializer.dumps({"complainant": {"id": filed.complainant.id, "seen": 1e12}})
    client = app.test_client()
    client.set_cookie(COOKIE, old)
    assert not _opens(client)


def test_the_session_ends_for_the_follow_up_only(app, clock, filed):
    """Sign-out and expiry end the follow-up session; the complaint form still works."""
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    clock.advance(timedelta(hours=3))
    assert not _opens(client)
    assert client.get("/complaint").status_code == 200
