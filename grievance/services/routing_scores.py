"""Routing's scoring on plain data (R06): who may take a case, and who fits it best.

No database and no clock: `plan` takes a case's facts and the candidates and returns the
choice; `score` and `exclusion` judge one candidate. `services.routing` reads the facts
from the database and writes the choice; the synthetic-case generator scores its
reviewers here too. The rules are described in `services.routing`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from grievance.models import AssignmentRole

ROLES = (AssignmentRole.LEAD, AssignmentRole.SECOND)


class Exclusion(enum.StrEnum):
    """Why a reviewer cannot take the case."""

    ASSIGNED = "assigned"  # already on it, in the other role
    CONFLICT = "conflict"  # a standing conflict with a company or site of the case
    LEFT_CASE = "left_case"  # recused, removed, replaced or conflicted off it before
    UNAVAILABLE = "unavailable"
    AT_CAPACITY = "at_capacity"


@dataclass(frozen=True)
class Candidate:
    """A reviewer as routing sees them."""

    reviewer_id: int
    languages: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    #: Open assignments on cases that have not ended.
    load: int = 0
    capacity: int = 10
    available: bool = True
    conflict_companies: frozenset[int] = frozenset()
    conflict_sites: frozenset[int] = frozenset()


@dataclass(frozen=True)
class CaseFacts:
    """A case as routing sees it."""

    language: str
    themes: frozenset[str] = frozenset()
    country: str | None = None
    #: Every company in the case, the site's company included.
    companies: frozenset[int] = frozenset()
    sites: frozenset[int] = frozenset()
    #: Reviewers on the case now.
    assigned: frozenset[int] = frozenset()
    #: Reviewers who left the case in a way routing never undoes.
    left: frozenset[int] = frozenset()


def exclusion(candidate: Candidate, case: CaseFacts) -> Exclusion | None:
    """Why `candidate` cannot take `case`, or None if they can. A conflict is named before
    anything else: it is the reason that matters most in the audit."""
    if candidate.conflict_companies & case.companies or candidate.conflict_sites & case.sites:
        return Exclusion.CONFLICT
    if candidate.reviewer_id in case.assigned:
        return Exclusion.ASSIGNED
    if candidate.reviewer_id in case.left:
        return Exclusion.LEFT_CASE
    if not candidate.available:
        return Exclusion.UNAVAILABLE
    if candidate.load >= candidate.capacity:
        return Exclusion.AT_CAPACITY
    return None


@dataclass(frozen=True)
class Score:
    """How well a reviewer fits a case; `key` orders candidates, best first."""

    reviewer_id: int
    reads_language: bool
    theme_matches: tuple[str, ...]
    country_match: bool
    load: int
    capacity: int

    @property
    def expertise(self) -> int:
        return len(self.theme_matches) + int(self.country_match)

    @property
    def key(self) -> tuple[int, int, int, int]:
        """Language first, then expertise, then the lightest load, then the user id."""
        return (0 if self.reads_language else 1, -self.expertise, self.load, self.reviewer_id)

    @property
    def points(self) -> int:
        """The key as one number for the log, higher is better: 1,000,000 for the
        language, 10,000 per point of expertise (up to 99), minus the load (up to 9,999)."""
        return (
            (1_000_000 if self.reads_language else 0)
            + min(self.expertise, 99) * 10_000
            - min(self.load, 9_999)
        )

    def reasons(self, case: CaseFacts) -> list[str]:
        verb = "reads" if self.reads_language else "does not read"
        found = [f"language: {verb} {case.language}"]
        if self.theme_matches:
            found.append("themes: " + ", ".join(self.theme_matches))
        elif case.themes:
            found.append("themes: none of " + ", ".join(sorted(case.themes)))
        if case.country is not None:
            found.append(f"country: {'' if self.country_match else 'not '}{case.country}")
        found.append(f"load: {self.load} of {self.capacity}")
        return found


def score(candidate: Candidate, case: CaseFacts) -> Score:
    return Score(
        reviewer_id=candidate.reviewer_id,
        reads_language=case.language in candidate.languages,
        theme_matches=tuple(sorted(case.themes & candidate.themes)),
        country_match=case.country is not None and case.country in candidate.countries,
        load=candidate.load,
        capacity=candidate.capacity,
    )


@dataclass(frozen=True)
class Pick:
    role: AssignmentRole
    score: Score
    #: 1 for the best eligible candidate.
    rank: int

    @property
    def reviewer_id(self) -> int:
        return self.score.reviewer_id


@dataclass(frozen=True)
class Plan:
    """Routing's choice for the empty roles of a case."""

    picks: tuple[Pick, ...]
    unfilled: tuple[AssignmentRole, ...]
    eligible: int
    excluded: Mapping[int, Exclusion] = field(default_factory=dict)

    def reasons(self, pick: Pick, case: CaseFacts) -> list[str]:
        found = [*pick.score.reasons(case), f"rank: {pick.rank} of {self.eligible} eligible"]
        passed_over: dict[Exclusion, list[int]] = {}
        for reviewer_id, why in sorted(self.excluded.items()):
            if why is not Exclusion.ASSIGNED:
                passed_over.setdefault(why, []).append(reviewer_id)
        if passed_over:
            found.append(
                "excluded: "
                + "; ".join(
                    f"{why.value} " + ", ".join(str(number) for number in numbers)
                    for why, numbers in sorted(passed_over.items())
                )
            )
        return found


def plan(
    case: CaseFacts, candidates: Iterable[Candidate], roles: Collection[AssignmentRole] = ROLES
) -> Plan:
    """Choose reviewers for `roles` (the lead before the second): the best eligible
    candidates in `Score.key` order. The same input, in any order, gives the same plan."""
    scores: list[Score] = []
    excluded: dict[int, Exclusion] = {}
    seen: set[int] = set()
    for candidate in candidates:
        if candidate.reviewer_id in seen:
            raise ValueError(f"reviewer {candidate.reviewer_id} is a candidate twice")
        seen.add(candidate.reviewer_id)
        why = exclusion(candidate, case)
        if why is None:
            scores.append(score(candidate, case))
        else:
            excluded[candidate.reviewer_id] = why
    scores.sort(key=lambda item: item.key)
    wanted = [role for role in ROLES if role in roles]
    picks = tuple(
        Pick(role=role, score=chosen, rank=number)
        for number, (role, chosen) in enumerate(zip(wanted, scores, strict=False), start=1)
    )
    return Plan(
        picks=picks,
        unfilled=tuple(wanted[len(picks) :]),
        eligible=len(scores),
        excluded=excluded,
    )
