"""The case lifecycle of DESIGN §4 as a table: which move, by which role, under which rule.

Every move is written by `grievance.services.cases.transition` (or, for decisions that
end or narrow a case, by `propose_decision` and `confirm_decision`; `decide` chooses
between the two for its caller), which looks it up here. Anything not in the table is
forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from grievance.models import Role, Stage
from grievance.models.case import ENDED_STAGES

R = Role.REVIEWER
S = Role.SECRETARIAT
C = Role.COMPLAINANT
CO = Role.COMPANY


@dataclass(frozen=True)
class Transition:
    source: Stage
    target: Stage
    roles: frozenset[Role]
    #: A decision that ends or narrows the case: proposed by one assigned reviewer,
    #: in force only when a second one confirms.
    four_eyes: bool = False
    #: The decision must give its reasons (R07, R12).
    needs_reason: bool = False
    description: str = ""
    #: The complainant must have been heard in the source stage, or a reviewer have
    #: logged why they could not be (R08: `services.hearing`).
    hears_complainant: bool = False


def _t(
    source: Stage,
    target: Stage,
    roles: set[Role],
    description: str,
    *,
    four_eyes: bool = False,
    needs_reason: bool = False,
) -> Transition:
    return Transition(
        source,
        target,
        frozenset(roles),
        four_eyes,
        needs_reason or four_eyes,
        description,
        hears_complainant=source is Stage.INVESTIGATION and target is not Stage.WITHDRAWN,
    )


_MOVES = [
    _t(Stage.RECEIVED, Stage.ACKNOWLEDGED, {R, S}, "Receipt acknowledged to the complainant"),
    _t(Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, {R}, "Admissibility assessment started"),
    _t(
        Stage.ADMISSIBILITY,
        Stage.INVESTIGATION,
        {R},
        "Admissible: investigation opened",
        needs_reason=True,
    ),
    _t(
        Stage.ADMISSIBILITY,
        Stage.DIALOGUE,
        {R},
        "Admissible: dialogue or mediation offered",
        needs_reason=True,
    ),
    _t(Stage.ADMISSIBILITY, Stage.INADMISSIBLE, {R}, "Found inadmissible", four_eyes=True),
    _t(
        Stage.ADMISSIBILITY,
        Stage.REFERRED,
        {R},
        "Referred to a better-placed mechanism",
        four_eyes=True,
    ),
    _t(
        Stage.DIALOGUE,
        Stage.INVESTIGATION,
        {R},
        "Dialogue ended without agreement",
        needs_reason=True,
    ),
    _t(Stage.DIALOGUE, Stage.FINDINGS, {R}, "Agreement reached in dialogue", four_eyes=True),
    _t(Stage.INVESTIGATION, Stage.DIALOGUE, {R}, "Dialogue or mediation offered"),
    _t(Stage.INVESTIGATION, Stage.FINDINGS, {R}, "Findings adopted", four_eyes=True),
    _t(Stage.FINDINGS, Stage.REMEDY_PLAN, {R}, "Remedy plan in preparation"),
    _t(Stage.FINDINGS, Stage.CLOSED, {R}, "Closed on the findings", four_eyes=True),
    _t(Stage.FINDINGS, Stage.APPEAL, {C, CO}, "Appeal against the findings", needs_reason=True),
    _t(Stage.INADMISSIBLE, Stage.APPEAL, {C}, "Appeal against inadmissibility", needs_reason=True),
    _t(Stage.REMEDY_PLAN, Stage.REMEDY_IMPLEMENTATION, {R}, "Remedy plan agreed"),
    _t(
        Stage.REMEDY_IMPLEMENTATION,
        Stage.REMEDY_VERIFICATION,
        {R},
        "Remedy reported; verification started",
    ),
    _t(
        Stage.REMEDY_VERIFICATION,
        Stage.REMEDY_IMPLEMENTATION,
        {R},
        "Remedy not yet verified",
        needs_reason=True,
    ),
    _t(
        Stage.REMEDY_VERIFICATION, Stage.CLOSED, {R}, "Remedy verified; case closed", four_eyes=True
    ),
    _t(
        Stage.APPEAL,
        Stage.ADMISSIBILITY,
        {R},
        "Appeal upheld: admissibility reconsidered",
        needs_reason=True,
    ),
    _t(
        Stage.APPEAL,
        Stage.INVESTIGATION,
        {R},
        "Appeal upheld: investigation reopened",
        needs_reason=True,
    ),
    _t(
        Stage.APPEAL, Stage.REMEDY_PLAN, {R}, "Appeal dismissed: the findings stand", four_eyes=True
    ),
    _t(Stage.APPEAL, Stage.INADMISSIBLE, {R}, "Appeal dismissed: inadmissible", four_eyes=True),
    _t(Stage.APPEAL, Stage.CLOSED, {R}, "Appeal dismissed: case closed", four_eyes=True),
]

#: Open stages: a complainant may withdraw from any of them (a reviewer may record it).
OPEN_STAGES = tuple(stage for stage in Stage if stage not in ENDED_STAGES)

_MOVES += [
    _t(stage, Stage.WITHDRAWN, {C, R}, "Withdrawn by the complainant", needs_reason=True)
    for stage in OPEN_STAGES
]

TRANSITIONS: dict[tuple[Stage, Stage], Transition] = {(t.source, t.target): t for t in _MOVES}


def find(source: Stage, target: Stage) -> Transition | None:
    return TRANSITIONS.get((source, target))


def moves_from(stage: Stage) -> list[Transition]:
    return [t for t in _MOVES if t.source == stage]


def path_to(target: Stage) -> list[Stage]:
    """The usual way from `received` to a stage (for demo data and tests): shortest path."""
    frontier: list[list[Stage]] = [[Stage.RECEIVED]]
    seen = {Stage.RECEIVED}
    while frontier:
        path = frontier.pop(0)
        if path[-1] == target:
            return path
        for move in moves_from(path[-1]):
            if move.target not in seen:
                seen.add(move.target)
                frontier.append([*path, move.target])
    raise ValueError(f"no path to {target}")
