"""Pure checks of the lifecycle table (DESIGN §4): who may take which move, under which rule."""

from __future__ import annotations

import itertools

import pytest

from grievance.models import Role, Stage
from grievance.models.case import ENDED_STAGES
from grievance.services import lifecycle
from grievance.services.lifecycle import TRANSITIONS

OPEN = [stage for stage in Stage if stage not in ENDED_STAGES]
FOUR_EYES = [move for move in TRANSITIONS.values() if move.four_eyes]


def test_the_table_is_keyed_by_its_moves():
    assert TRANSITIONS, "the lifecycle has no moves"
    for (source, target), move in TRANSITIONS.items():
        assert (move.source, move.target) == (source, target)
        assert source is not target, f"{source} moves to itself"
        assert move.roles, f"{source} -> {target} names no role"
        assert lifecycle.find(source, target) is move
    assert lifecycle.find(Stage.RECEIVED, Stage.CLOSED) is None


@pytest.mark.parametrize("stage", OPEN, ids=str)
def test_every_open_stage_can_be_withdrawn_by_the_complainant(stage):
    move = lifecycle.find(stage, Stage.WITHDRAWN)
    assert move is not None
    assert move.roles == {Role.COMPLAINANT, Role.REVIEWER}
    assert move.needs_reason
    assert not move.four_eyes, "a complainant withdraws without two reviewers"


@pytest.mark.parametrize("stage", sorted(ENDED_STAGES), ids=str)
def test_an_ended_case_cannot_be_withdrawn(stage):
    assert lifecycle.find(stage, Stage.WITHDRAWN) is None


def test_only_an_appeal_leaves_an_ended_stage():
    leaving = {key for key in TRANSITIONS if key[0] in ENDED_STAGES}
    assert leaving == {(Stage.INADMISSIBLE, Stage.APPEAL)}
    assert lifecycle.moves_from(Stage.CLOSED) == []
    assert lifecycle.moves_from(Stage.WITHDRAWN) == []
    assert lifecycle.moves_from(Stage.REFERRED) == []


@pytest.mark.parametrize("move", FOUR_EYES, ids=lambda m: f"{m.source}->{m.target}")
def test_only_reviewers_take_four_eyes_moves(move):
    assert move.roles == {Role.REVIEWER}


@pytest.mark.parametrize("move", FOUR_EYES, ids=lambda m: f"{m.source}->{m.target}")
def test_every_four_eyes_move_needs_a_reason(move):
    assert move.needs_reason


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (Stage.ADMISSIBILITY, Stage.INADMISSIBLE),
        (Stage.APPEAL, Stage.INADMISSIBLE),
        (Stage.ADMISSIBILITY, Stage.REFERRED),
        (Stage.FINDINGS, Stage.CLOSED),
        (Stage.REMEDY_VERIFICATION, Stage.CLOSED),
        (Stage.APPEAL, Stage.CLOSED),
        (Stage.INVESTIGATION, Stage.FINDINGS),
        (Stage.DIALOGUE, Stage.FINDINGS),
    ],
    ids=str,
)
def test_decisions_that_end_or_narrow_a_case_are_four_eyes(source, target):
    move = lifecycle.find(source, target)
    assert move is not None
    assert move.four_eyes


def test_every_move_into_findings_inadmissible_referred_or_closed_is_four_eyes():
    for (_, target), move in TRANSITIONS.items():
        if target in (Stage.FINDINGS, Stage.INADMISSIBLE, Stage.REFERRED, Stage.CLOSED):
            assert move.four_eyes, f"{move.source} -> {target} takes one reviewer"


def test_reasons_are_required_where_the_table_says():
    assert lifecycle.find(Stage.ADMISSIBILITY, Stage.INVESTIGATION).needs_reason
    assert lifecycle.find(Stage.FINDINGS, Stage.APPEAL).needs_reason
    assert not lifecycle.find(Stage.RECEIVED, Stage.ACKNOWLEDGED).needs_reason
    assert not lifecycle.find(Stage.FINDINGS, Stage.REMEDY_PLAN).needs_reason


def test_companies_and_admins_take_no_decision():
    for move in TRANSITIONS.values():
        assert Role.ADMIN not in move.roles, f"admin takes {move.source} -> {move.target}"
        assert Role.SYSTEM not in move.roles, f"system takes {move.source} -> {move.target}"
        if Role.COMPANY in move.roles:
            assert move.target is Stage.APPEAL, "a company may only appeal"
            assert not move.four_eyes
    company_moves = {key for key, move in TRANSITIONS.items() if Role.COMPANY in move.roles}
    assert company_moves == {(Stage.FINDINGS, Stage.APPEAL)}


def test_a_company_can_never_move_a_case_to_findings():
    for (_, target), move in TRANSITIONS.items():
        if target is Stage.FINDINGS:
            assert Role.COMPANY not in move.roles


def test_the_secretariat_only_acknowledges():
    moves = {key for key, move in TRANSITIONS.items() if Role.SECRETARIAT in move.roles}
    assert moves == {(Stage.RECEIVED, Stage.ACKNOWLEDGED)}


def test_appeals_follow_an_admissibility_or_findings_decision():
    sources = {source for (source, target) in TRANSITIONS if target is Stage.APPEAL}
    assert sources == {Stage.FINDINGS, Stage.INADMISSIBLE}
    for source in sources:
        assert Role.COMPLAINANT in TRANSITIONS[source, Stage.APPEAL].roles


@pytest.mark.parametrize("stage", list(Stage), ids=str)
def test_path_to_reaches_every_stage(stage):
    path = lifecycle.path_to(stage)
    assert path[0] is Stage.RECEIVED
    assert path[-1] is stage
    assert len(set(path)) == len(path), "a shortest path visits no stage twice"
    for source, target in itertools.pairwise(path):
        assert (source, target) in TRANSITIONS


def test_path_to_is_shortest():
    assert lifecycle.path_to(Stage.RECEIVED) == [Stage.RECEIVED]
    assert lifecycle.path_to(Stage.WITHDRAWN) == [Stage.RECEIVED, Stage.WITHDRAWN]
    assert lifecycle.path_to(Stage.CLOSED) == [
        Stage.RECEIVED,
        Stage.ACKNOWLEDGED,
        Stage.ADMISSIBILITY,
        Stage.INVESTIGATION,
        Stage.FINDINGS,
        Stage.CLOSED,
    ]


@pytest.mark.parametrize("stage", OPEN, ids=str)
def test_every_open_stage_can_reach_closed(stage):
    """No open stage is a dead end: some sequence of moves closes the case."""
    seen, frontier = {stage}, [stage]
    while frontier:
        current = frontier.pop()
        for move in lifecycle.moves_from(current):
            if move.target not in seen:
                seen.add(move.target)
                frontier.append(move.target)
    assert Stage.CLOSED in seen
    assert Stage.WITHDRAWN in seen
