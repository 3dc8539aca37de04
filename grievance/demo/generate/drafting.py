"""Drawing synthetic cases: each case's facts (`Draft`), before its ids and reference are
known. The lead and the second reviewer are chosen so that loads come out even
(`Assigner`), and scored as routing scores them (`routing_scores.score`)."""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from grievance.demo.generate.spec import (
    ANONYMITY_WEIGHTS,
    ASSESSED_DURING,
    ASSESSED_PAST,
    CHANNEL_WEIGHTS,
    COUNTRIES,
    ENDED_DAYS,
    KIND_WEIGHTS,
    LIKELIHOOD_WEIGHTS,
    OTHER_COUNTRIES,
    OVERRUN,
    REPRISAL_ASSESSED,
    REPRISAL_WEIGHTS,
    ROUTING_NOTE,
    SEVERITY_WEIGHTS,
    STAGE_DAYS,
    STAGE_WEIGHTS,
    THEME_COUNTS,
    URGENT_SHARE,
    WITHDRAWN_FROM,
)
from grievance.models import (
    Anonymity,
    Channel,
    ComplainantKind,
    Mechanism,
    ReprisalRisk,
    Stage,
)
from grievance.models.case import ENDED_STAGES
from grievance.policies import Policy, TimeLimit
from grievance.services import lifecycle
from grievance.services.routing_scores import Candidate, CaseFacts, score


class Weighted:
    """Draws from a table of weights with one bisect."""

    def __init__(self, weights: Mapping[Any, float]) -> None:
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


def policy_weights(codes: Iterable[str], known: Mapping[str, float]) -> dict[str, float]:
    return {code: known.get(code, 1.0) for code in codes}


_STAGES = Weighted(STAGE_WEIGHTS)
_THEME_COUNTS = Weighted(THEME_COUNTS)
_CHANNELS = Weighted(CHANNEL_WEIGHTS)
_KINDS = Weighted(KIND_WEIGHTS)
_ANONYMITY = Weighted(ANONYMITY_WEIGHTS)
_SEVERITY = Weighted(SEVERITY_WEIGHTS)
_LIKELIHOOD = Weighted(LIKELIHOOD_WEIGHTS)
_REPRISAL = Weighted(REPRISAL_WEIGHTS)


@dataclass(frozen=True)
class Reviewer:
    id: int
    languages: frozenset[str]
    themes: frozenset[str]
    countries: frozenset[str]
    capacity: int = 10


@dataclass
class MechanismFacts:
    row: Mechanism
    #: The row's id and code, read once (the row expires at each commit).
    id: int
    code: str
    policy: Policy
    policy_version: int
    starting: dict[Stage, list[TimeLimit]]
    languages: Weighted
    themes: Weighted
    urgent_themes: frozenset[str]


@dataclass
class Draft:
    """One case's facts, drawn before its ids and reference are known."""

    mechanism: MechanismFacts
    language: str
    country: str
    channel: Channel
    themes: list[str]
    urgent: bool
    kind: ComplainantKind
    anonymity: Anonymity
    path: list[Stage]
    #: When the case entered each stage of its path.
    entered: list[datetime]
    lead: Reviewer
    second: Reviewer
    assessed_at: datetime | None = None
    severity: tuple[int, int, int, int] | None = None
    reprisal: ReprisalRisk | None = None
    #: The lead's and the second's score and reasons, as routing logs them.
    scores: tuple[tuple[int, list[str]], tuple[int, list[str]]] = ((0, []), (0, []))

    @property
    def decisions(self) -> int:
        """How many decisions taken with four eyes the path holds (one proposal each)."""
        return four_eyes_moves(tuple(self.path))


@cache
def four_eyes_moves(path: tuple[Stage, ...]) -> int:
    found = 0
    for source, target in itertools.pairwise(path):
        move = lifecycle.find(source, target)
        if move is None:  # pragma: no cover - the paths come from the lifecycle table
            raise ValueError(f"no move from {source} to {target}")
        found += move.four_eyes
    return found


def fit(reviewer: Reviewer, load: int, case: CaseFacts) -> tuple[int, list[str]]:
    """The score and reasons routing logs for a reviewer (`routing_scores.score`), with the
    load they had before this case; the choice itself was not routing's, and says so."""
    found = score(
        Candidate(
            reviewer.id,
            reviewer.languages,
            reviewer.themes,
            reviewer.countries,
            load=load,
            capacity=reviewer.capacity,
        ),
        case,
    )
    return found.points, [*found.reasons(case), ROUTING_NOTE]


class Assigner:
    """Lead and second reviewer of each case, so that loads come out even (capacity is
    ignored). For an open case, the lead is the reader of its language with the fewest
    open cases of this run so far (anyone, if nobody reads it), the second whoever has
    the fewest other than the lead (the lowest id first); for an ended case, the next
    reviewers in turn."""

    def __init__(self, reviewers: Sequence[Reviewer]) -> None:
        languages = sorted({language for reviewer in reviewers for language in reviewer.languages})
        self.readers = {
            language: [reviewer for reviewer in reviewers if language in reviewer.languages]
            for language in languages
        }
        self.everyone = list(reviewers)
        self.in_turn = itertools.cycle(reviewers)
        self.by_id = {reviewer.id: reviewer for reviewer in reviewers}
        self.loads = dict.fromkeys(self.by_id, 0)
        self.lightest = [(0, reviewer.id) for reviewer in reviewers]  # a heap, lazily kept
        heapq.heapify(self.lightest)

    def pick(self, language: str, *, open_case: bool) -> tuple[Reviewer, int, Reviewer, int]:
        """The lead and the second, each with their open cases of this run before this one."""
        loads = self.loads
        if not open_case:
            lead, second = next(self.in_turn), next(self.in_turn)
            return lead, loads[lead.id], second, loads[second.id]
        lead = min(self.readers.get(language, self.everyone), key=lambda r: (loads[r.id], r.id))
        lead_load = loads[lead.id]
        self._add(lead.id)
        aside = None
        while True:
            load, second_id = heapq.heappop(self.lightest)
            if load != loads[second_id]:
                continue  # stale: that reviewer has more cases now
            if second_id != lead.id:
                break
            aside = (load, second_id)
        if aside is not None:
            heapq.heappush(self.lightest, aside)
        second_load = loads[second_id]
        self._add(second_id)
        if len(self.lightest) > 4 * len(loads):  # drop the stale entries
            self.lightest = [(load, reviewer_id) for reviewer_id, load in loads.items()]
            heapq.heapify(self.lightest)
        return lead, lead_load, self.by_id[second_id], second_load

    def _add(self, reviewer_id: int) -> None:
        self.loads[reviewer_id] += 1
        heapq.heappush(self.lightest, (self.loads[reviewer_id], reviewer_id))


def draw_case(
    rng: random.Random,
    now: datetime,
    mechanism: MechanismFacts,
    paths: Mapping[Stage, list[Stage]],
    assigner: Assigner,
) -> Draft:
    """One case's facts: a stage reached along the lifecycle's usual path, the time spent
    in each stage, its spread, its reviewers and, for most cases past admissibility, an
    assessment."""
    stage: Stage = _STAGES.draw(rng)
    if stage is Stage.WITHDRAWN:
        path = [*paths[rng.choice(WITHDRAWN_FROM)], Stage.WITHDRAWN]
    else:
        path = paths[stage]
    # Back from now: how long the case has been where it is, then each stage before.
    if path[-1] in ENDED_STAGES:
        elapsed = rng.uniform(*ENDED_DAYS)
    else:
        elapsed = rng.uniform(0.0, STAGE_DAYS[path[-1]][1] * OVERRUN)
    moment = now - timedelta(days=elapsed)
    entered = [moment]
    for earlier in reversed(path[:-1]):
        moment -= timedelta(days=rng.uniform(*STAGE_DAYS[earlier]))
        entered.append(moment)
    entered.reverse()

    language: str = mechanism.languages.draw(rng)
    count = _THEME_COUNTS.draw(rng)
    themes: set[str] = set()
    while len(themes) < min(count, len(mechanism.themes.values)):
        themes.add(mechanism.themes.draw(rng))
    lead, lead_load, second, second_load = assigner.pick(
        language, open_case=path[-1] not in ENDED_STAGES
    )
    draft = Draft(
        mechanism=mechanism,
        language=language,
        country=rng.choice(COUNTRIES.get(language, OTHER_COUNTRIES)),
        channel=_CHANNELS.draw(rng),
        themes=sorted(themes),
        urgent=rng.random() < URGENT_SHARE,
        kind=_KINDS.draw(rng),
        anonymity=_ANONYMITY.draw(rng),
        path=path,
        entered=entered,
        lead=lead,
        second=second,
    )
    facts = CaseFacts(language=language, themes=frozenset(themes), country=draft.country)
    draft.scores = (fit(lead, lead_load, facts), fit(second, second_load, facts))
    if Stage.ADMISSIBILITY in path:
        index = path.index(Stage.ADMISSIBILITY)
        past = index < len(path) - 1
        if rng.random() < (ASSESSED_PAST if past else ASSESSED_DURING):
            start = entered[index]
            end = entered[index + 1] if past else now
            draft.assessed_at = start + min(timedelta(days=2), (end - start) / 2)
            draft.severity = (
                _SEVERITY.draw(rng),
                _SEVERITY.draw(rng),
                _SEVERITY.draw(rng),
                _LIKELIHOOD.draw(rng),
            )
            if rng.random() < REPRISAL_ASSESSED:
                draft.reprisal = _REPRISAL.draw(rng)
    return draft
