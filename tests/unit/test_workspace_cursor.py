"""The queue's page token (`services.workspace.QueueKey`): what it writes it reads back,
and anything else a browser may send is refused as `InvalidCursor`, never a crash. Also
the names of the lifecycle's moves for the workspace stay complete."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grievance.models import Role, Stage
from grievance.services import lifecycle
from grievance.services.workspace import InvalidCursor, QueueKey
from grievance.web.reviewer_labels import MOVE_NAMES

keys = st.builds(
    QueueKey,
    rank=st.integers(min_value=0, max_value=2**31 - 1),
    due_at=st.none()
    | st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    case_id=st.integers(min_value=1, max_value=2**31 - 1),
)


@given(keys)
def test_a_token_reads_back_as_its_key(key: QueueKey) -> None:
    token = key.token()
    assert QueueKey.from_token(token) == key
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")  # safe in a URL


@given(st.text(max_size=120))
def test_any_text_is_a_key_written_by_us_or_refused(text: str) -> None:
    try:
        key = QueueKey.from_token(text)
    except InvalidCursor:
        return
    assert key.token() == text


@given(keys, st.data())
def test_an_altered_token_is_refused_or_names_another_well_formed_key(
    key: QueueKey, data: st.DataObject
) -> None:
    token = key.token()
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-_=+/."))
    altered = token[:position] + replacement + token[position + 1 :]
    try:
        found = QueueKey.from_token(altered)
    except InvalidCursor:
        return
    assert found.token() == altered


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x" * 81,
        "q1.0.n.1",
        "cTEuMC5uLjE=",
        "cTEuMC5uLjE",
        "cTEuMC5uLjAx",
        QueueKey(0, None, 2**31).token(),  # beyond the integer column
        QueueKey(2**31, None, 1).token(),
        QueueKey(0, None, 0).token(),
    ],
)
def test_tokens_not_in_their_own_form_are_refused(token: str) -> None:
    if token == "cTEuMC5uLjE":  # "q1.0.n.1", written by us
        assert QueueKey.from_token(token) == QueueKey(0, None, 1)
        return
    with pytest.raises(InvalidCursor):
        QueueKey.from_token(token)


def test_every_reviewer_move_of_the_lifecycle_has_a_name() -> None:
    moves = {
        (move.source, move.target)
        for stage in Stage
        for move in lifecycle.moves_from(stage)
        if Role.REVIEWER in move.roles and move.target is not Stage.WITHDRAWN
    }
    assert moves == set(MOVE_NAMES)
