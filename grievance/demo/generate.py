"""Synthetic cases in bulk, for load tests and benchmarks (`grievance generate`).

The demo loader (`grievance.demo`) takes thirty cases through the services; this module
writes a million straight into the tables, in batches, with what the services would
have left behind:

- each case in a mechanism (`SYN01`, `SYN02`, …, created when missing), with a reference
  number taken from the mechanism's counter, so cases filed later do not collide;
- a language of the mechanism's policy (weighted towards bn, ta, hi, ur, en, tr, zh), a
  country that goes with it, one to three themes, a channel, an anonymous, confidential
  or open complainant (without a receipt code: nobody can follow these cases up);
- a stage reached along the lifecycle's usual path (`lifecycle.path_to`), mostly early
  (received, acknowledged, admissibility, investigation), a quarter ended; the time spent
  in each stage is drawn per stage, so some cases run past their time limits;
- a severity and a reprisal risk for most cases past admissibility, and `queue_rank` from
  `services.queue.rank`; a few cases the filer called urgent;
- a lead and a second reviewer among the generated reviewers (`reviewer-0001@…`, with
  profiles): the lead reads the case's language where someone does, and both turn round
  the reviewers so that loads come out even (capacity is ignored); `needs_interpreter`
  says when neither reads it;
- the deadlines open now, worked out from the case's policy along its path (opened by the
  stage that starts them, closed by the stage that ends them, waived when the case ends),
  and `next_due_at`, the earliest of them. A limit met by an event this module does not
  write (progress updates, feedback, the satisfaction check) counts as met on time: a
  recurring one is renewed at each due time, the others are gone once due. Reminders and
  escalations have not been sent: the worker's first sweep catches up;
- a hash-chained log per case as the services write it (`case_filed`, two
  `reviewer_assigned`, a `stage_changed` per move with the deadlines it opened and
  closed, `severity_assessed`, `reprisal_risk_assessed`), so `grievance verify-log`
  passes. A decision that needs four eyes names the proposing reviewer (`proposed_by`)
  and is confirmed by the other, without a `DecisionProposal` row; the messages that met
  progress updates are not written;
- a data key per case, wrapped by the key ring like any other, and the statement sealed
  under it (AES-GCM, the vault's format, a few microseconds a case): a fixed text that
  says the case is synthetic.

Speed: rows are built in Python as tuples of plain values (hashing the chains costs most)
and written per batch of `batch_size` cases: with `COPY … FROM STDIN` on PostgreSQL
(psycopg's `cursor.copy`), with the driver's executemany elsewhere. Case and data-key
ids are reserved per batch (from the sequences on PostgreSQL). The caller commits after
each batch (`after_batch`), so a run cut short leaves whole cases.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import itertools
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from grievance.crypto.secrets import hash_password
from grievance.crypto.vault import seal_under, wrap_data_key
from grievance.models import (
    Anonymity,
    AssignmentRole,
    Base,
    CaseEvent,
    Channel,
    ComplainantKind,
    ContactChannel,
    DeadlineState,
    Mechanism,
    ReprisalRisk,
    ReviewerProfile,
    Role,
    Stage,
    User,
)
from grievance.models.base import UTCDateTime
from grievance.models.case import ENDED_STAGES
from grievance.policies import Policy, TimeLimit
from grievance.services import caselog, deadlines, lifecycle, queue
from grievance.services.context import Context
from grievance.services.filing import new_receipt_salt
from grievance.services.references import format_reference, reserve_numbers

MECHANISM_PREFIX = "SYN"
REVIEWER_DOMAIN = "synthetic.example.org"
#: The password of every generated reviewer (they enrol a second factor at first sign-in).
REVIEWER_PASSWORD = "synthetic-password"  # noqa: S105 - synthetic accounts, never production
STATEMENT = (
    "Synthetic case made by `grievance generate` for load tests and benchmarks. "
    "Nobody wrote this; no person is behind it."
)
_STATEMENT = STATEMENT.encode("utf-8")
REASON = "Synthetic case: no reasons were written."
BATCH_SIZE = 10_000
#: How long `settle` waits for a table that someone else holds.
SETTLE_LOCK_TIMEOUT = "10s"
#: The page cache of the SQLite connection while it writes (the default is 2 MB).
SQLITE_CACHE_KB = 256 * 1024


def reviewer_email(number: int) -> str:
    return f"reviewer-{number:04d}@{REVIEWER_DOMAIN}"


# -- the spread ------------------------------------------------------------------------
# Weights, not shares; a policy's language or theme missing here weighs 1.

LANGUAGE_WEIGHTS = {
    "bn": 20, "ta": 11, "hi": 11, "ur": 9, "en": 10, "tr": 8, "zh": 7,
    "vi": 3, "km": 3, "my": 3, "id": 3, "sw": 2, "am": 2, "es": 2, "ar": 2,
    "pt": 1.5, "fr": 1.5, "nl": 0.5,
}  # fmt: skip
COUNTRIES = {
    "bn": ["BD"], "ta": ["IN", "LK"], "hi": ["IN"], "ur": ["PK"],
    "en": ["IN", "BD", "PK", "KE", "GH", "PH", "LK"], "tr": ["TR"], "zh": ["CN"],
    "vi": ["VN"], "km": ["KH"], "my": ["MM"], "id": ["ID"], "sw": ["KE", "TZ"], "am": ["ET"],
    "es": ["GT", "HN", "PE", "MX"], "ar": ["EG", "JO", "MA"], "pt": ["BR", "MZ"],
    "fr": ["MA", "MG", "TN"], "nl": ["NL"],
}  # fmt: skip
OTHER_COUNTRIES = ["BD", "IN", "PK"]
THEME_WEIGHTS = {
    "living_wage": 20, "health_and_safety": 16, "working_hours": 14,
    "freedom_of_association": 10, "discrimination_gender": 9, "gender_based_violence": 6,
    "environment": 6, "land_rights": 5, "other": 5, "child_labour": 3, "forced_labour": 3,
    "reprisal": 3,
}  # fmt: skip
THEME_COUNTS = {1: 55, 2: 32, 3: 13}
STAGE_WEIGHTS = {
    Stage.RECEIVED: 12, Stage.ACKNOWLEDGED: 17, Stage.ADMISSIBILITY: 20,
    Stage.INVESTIGATION: 17, Stage.DIALOGUE: 4, Stage.FINDINGS: 3, Stage.REMEDY_PLAN: 3,
    Stage.REMEDY_IMPLEMENTATION: 3, Stage.REMEDY_VERIFICATION: 2, Stage.APPEAL: 1,
    Stage.INADMISSIBLE: 7, Stage.REFERRED: 3, Stage.WITHDRAWN: 3, Stage.CLOSED: 5,
}  # fmt: skip
#: The stages a withdrawn case was withdrawn from.
WITHDRAWN_FROM = (Stage.RECEIVED, Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.INVESTIGATION)
#: Days a case spent in a stage it has left (from, to). The current stage has lasted up
#: to OVERRUN times the longest, so some cases run past their time limits.
STAGE_DAYS = {
    Stage.RECEIVED: (0.05, 6.0), Stage.ACKNOWLEDGED: (1.0, 14.0),
    Stage.ADMISSIBILITY: (7.0, 80.0), Stage.DIALOGUE: (30.0, 170.0),
    Stage.INVESTIGATION: (20.0, 85.0), Stage.FINDINGS: (5.0, 30.0),
    Stage.REMEDY_PLAN: (10.0, 55.0), Stage.REMEDY_IMPLEMENTATION: (30.0, 150.0),
    Stage.REMEDY_VERIFICATION: (10.0, 40.0), Stage.APPEAL: (10.0, 55.0),
    Stage.INADMISSIBLE: (10.0, 60.0),
}  # fmt: skip
OVERRUN = 1.15
#: Days since an ended case ended.
ENDED_DAYS = (1.0, 540.0)
CHANNEL_WEIGHTS = {
    Channel.WEB: 40, Channel.SMS: 22, Channel.WHATSAPP: 16, Channel.API: 6, Channel.PHONE: 6,
    Channel.IN_PERSON: 4, Channel.LETTER: 3, Channel.EMAIL: 3,
}  # fmt: skip
KIND_WEIGHTS = {
    ComplainantKind.AFFECTED: 70, ComplainantKind.UNION: 12, ComplainantKind.REPRESENTATIVE: 8,
    ComplainantKind.CSO: 7, ComplainantKind.NOTIFIER: 3,
}  # fmt: skip
ANONYMITY_WEIGHTS = {Anonymity.CONFIDENTIAL: 55, Anonymity.ANONYMOUS: 35, Anonymity.OPEN: 10}
URGENT_SHARE = 0.03
SEVERITY_WEIGHTS = {1: 15, 2: 30, 3: 30, 4: 17, 5: 8}
LIKELIHOOD_WEIGHTS = {1: 10, 2: 25, 3: 35, 4: 20, 5: 10}
REPRISAL_WEIGHTS = {ReprisalRisk.LOW: 72, ReprisalRisk.MEDIUM: 20, ReprisalRisk.HIGH: 8}
#: Shares of cases assessed: past admissibility, and still in it; with a reprisal risk.
ASSESSED_PAST, ASSESSED_DURING, REPRISAL_ASSESSED = 0.85, 0.45, 0.9
SECTORS = ("textile", "agriculture", "electronics", "mining", "toys")


# -- what was asked, what was made -----------------------------------------------------


@dataclass(frozen=True)
class Spec:
    cases: int
    mechanisms: int = 3
    reviewers: int = 50
    seed: int = 1
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        if self.cases < 1 or self.mechanisms < 1 or self.batch_size < 1:
            raise ValueError("cases, mechanisms and the batch size must be at least 1")
        if self.mechanisms > 99:
            raise ValueError("at most 99 mechanisms (SYN01 to SYN99)")
        if self.reviewers < 2:
            raise ValueError("every case has two reviewers: give at least 2")


@dataclass
class Report:
    cases: int = 0
    first_case_id: int | None = None
    last_case_id: int | None = None
    mechanisms: list[str] = field(default_factory=list)
    mechanisms_created: list[str] = field(default_factory=list)
    reviewers: int = 0
    reviewers_created: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    #: Open cases per reviewer id, among the cases of this run.
    loads: Counter[int] = field(default_factory=Counter)
    open_cases: int = 0
    overdue: int = 0
    first_band: int = 0
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        def shares(counts: Counter[str], top: int | None = None) -> str:
            return ", ".join(
                f"{name} {count / self.cases:.0%}" for name, count in counts.most_common(top)
            )

        rate = self.cases / self.seconds if self.seconds else 0.0
        tables = ", ".join(f"{count:,} {name}" for name, count in sorted(self.rows.items()))
        loads = sorted(self.loads.values()) or [0]
        return "\n".join(
            [
                f"Generated {self.cases:,} synthetic cases (ids {self.first_case_id} to "
                f"{self.last_case_id}) in {self.seconds:.1f} s ({rate:,.0f} cases/s).",
                f"Mechanisms: {', '.join(self.mechanisms)} "
                f"(created: {', '.join(self.mechanisms_created) or 'none'}).",
                f"Reviewers: {self.reviewers} (created: {self.reviewers_created}), "
                f"{reviewer_email(1)} to {reviewer_email(self.reviewers)}, password "
                f"{REVIEWER_PASSWORD!r} (a second factor is enrolled at the first sign-in); "
                f"open cases each: {loads[0]:,} to {loads[-1]:,}.",
                f"Rows written: {tables}.",
                f"Stages: {shares(self.stages)}.",
                f"Languages: {shares(self.languages, 8)}, …",
                f"Open cases: {self.open_cases:,}, {self.overdue:,} of them overdue, "
                f"{self.first_band:,} in the queue's first band (irremediable or urgent).",
            ]
        )


# -- rows, as plain values in column order ---------------------------------------------
# Enums are their stored strings, JSON is its text, times are aware UTC datetimes.


class _CaseRow(NamedTuple):
    id: int
    reference: str
    mechanism_id: int
    policy_version: int
    channel: str
    language: str
    country: str
    site_id: None
    urgent: bool
    needs_interpreter: bool
    queue_rank: int
    next_due_at: datetime | None
    stage: str
    stage_entered_at: datetime
    received_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    clock_paused_at: None
    severity_scale: int | None
    severity_scope: int | None
    severity_irremediability: int | None
    severity_likelihood: int | None
    reprisal_risk: str | None
    statement_enc: bytes
    location_enc: None
    companies_enc: None
    occurred_enc: None
    published: bool
    legal_hold: bool
    identities_erased_at: None
    event_count: int
    log_head: str
    created_at: datetime
    updated_at: datetime


class _DataKeyRow(NamedTuple):
    id: int
    case_id: int
    kek_version: int
    wrapped: bytes
    created_at: datetime
    rewrapped_at: None


class _ThemeRow(NamedTuple):
    case_id: int
    theme: str


class _ComplainantRow(NamedTuple):
    case_id: int
    anonymity: str
    kind: str
    language: str
    contact_channel: str
    name_enc: None
    details_enc: None
    represents_enc: None
    contact_enc: None
    phone_lookup: None
    receipt_lookup: str
    created_at: datetime
    erased_at: None
    contact_failed_at: None


class _AssignmentRow(NamedTuple):
    case_id: int
    reviewer_id: int
    role: str
    reasons: str
    assigned_at: datetime
    ended_at: None
    end_reason: None


class _DeadlineRow(NamedTuple):
    case_id: int
    code: str
    opened_at: datetime
    due_at: datetime
    remind_at: datetime
    reminded_at: None
    escalated_at: None
    extended_days: int
    state: str
    closed_at: None
    paused_at: None
    note: str


class _EventRow(NamedTuple):
    case_id: int
    seq: int
    kind: str
    visibility: str
    actor_role: str
    actor_id: int | None
    stage_from: str | None
    stage_to: str | None
    payload: str
    created_at: datetime
    prev_hash: str
    hash: str


#: The tables in the order they are written (foreign keys first).
_TABLES: dict[str, type[tuple[Any, ...]]] = {
    "case": _CaseRow,
    "data_key": _DataKeyRow,
    "case_theme": _ThemeRow,
    "complainant": _ComplainantRow,
    "assignment": _AssignmentRow,
    "deadline": _DeadlineRow,
    "case_event": _EventRow,
}

# `caselog.canonical` on values that are JSON already: compact, sorted keys, UTF-8.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@cache
def _json_text(value: str | None) -> str:
    return _ENCODER.encode(value)


def _time_text(moment: datetime) -> str:
    """A UTC time as `caselog` writes it: 2026-06-01T12:00:00.000000Z."""
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


# -- drawing ----------------------------------------------------------------------------


class _Weighted:
    """Draws from a table of weights with one bisect."""

    def __init__(self, weights: Mapping[Any, float]) -> None:
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


def _policy_weights(codes: Iterable[str], known: Mapping[str, float]) -> dict[str, float]:
    return {code: known.get(code, 1.0) for code in codes}


_STAGES = _Weighted(STAGE_WEIGHTS)
_THEME_COUNTS = _Weighted(THEME_COUNTS)
_CHANNELS = _Weighted(CHANNEL_WEIGHTS)
_KINDS = _Weighted(KIND_WEIGHTS)
_ANONYMITY = _Weighted(ANONYMITY_WEIGHTS)
_SEVERITY = _Weighted(SEVERITY_WEIGHTS)
_LIKELIHOOD = _Weighted(LIKELIHOOD_WEIGHTS)
_REPRISAL = _Weighted(REPRISAL_WEIGHTS)


@dataclass(frozen=True)
class _Reviewer:
    id: int
    languages: frozenset[str]
    themes: frozenset[str]
    countries: frozenset[str]


@dataclass
class _Mechanism:
    row: Mechanism
    #: The row's id and code, read once (the row expires at each commit).
    id: int
    code: str
    policy: Policy
    policy_version: int
    starting: dict[Stage, list[TimeLimit]]
    languages: _Weighted
    themes: _Weighted
    urgent_themes: frozenset[str]


@dataclass
class _Draft:
    """One case's facts, drawn before its ids and reference are known."""

    mechanism: _Mechanism
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
    lead: _Reviewer
    second: _Reviewer
    assessed_at: datetime | None = None
    severity: tuple[int, int, int, int] | None = None
    reprisal: ReprisalRisk | None = None
    #: The routing-like score and reasons of the lead and of the second.
    scores: tuple[tuple[int, list[str]], tuple[int, list[str]]] = ((0, []), (0, []))


class _Assigner:
    """Lead and second reviewer of each case, so that loads come out even (capacity is
    ignored). For an open case, the lead is the reader of its language with the fewest
    open cases of this run so far (anyone, if nobody reads it), the second whoever has
    the fewest other than the lead (the lowest id first); for an ended case, the next
    reviewers in turn."""

    def __init__(self, reviewers: Sequence[_Reviewer]) -> None:
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

    def pick(self, language: str, *, open_case: bool) -> tuple[_Reviewer, _Reviewer]:
        if not open_case:
            lead = next(self.in_turn)
            return lead, next(self.in_turn)
        loads = self.loads
        lead = min(self.readers.get(language, self.everyone), key=lambda r: (loads[r.id], r.id))
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
        self._add(second_id)
        if len(self.lightest) > 4 * len(loads):  # drop the stale entries
            self.lightest = [(load, reviewer_id) for reviewer_id, load in loads.items()]
            heapq.heapify(self.lightest)
        return lead, self.by_id[second_id]

    def _add(self, reviewer_id: int) -> None:
        self.loads[reviewer_id] += 1
        heapq.heappush(self.lightest, (self.loads[reviewer_id], reviewer_id))


def _shares(weights: Mapping[str, float], count: int) -> list[str]:
    """`count` values in proportion to their weights (largest remainders), in order."""
    total = sum(weights.values())
    quotas = {value: weight * count / total for value, weight in weights.items()}
    chosen = {value: int(quota) for value, quota in quotas.items()}
    rest = sorted(quotas, key=lambda value: (int(quotas[value]) - quotas[value], value))
    for value in rest[: count - sum(chosen.values())]:
        chosen[value] += 1
    return [value for value in weights for _ in range(chosen[value])]


# -- the entry point --------------------------------------------------------------------


def generate(
    ctx: Context, spec: Spec, *, after_batch: Callable[[int], None] | None = None
) -> Report:
    """Write `spec.cases` synthetic cases (see the module docstring) with `ctx.session`;
    `after_batch(done)` runs after each batch (the command commits there; then it calls
    `settle`). Not for a production database: the command refuses to run there."""
    started = time.perf_counter()
    rng = random.Random(spec.seed)  # noqa: S311 - a reproducible spread, not a secret
    now = ctx.now().astimezone(UTC)
    report = Report()
    mechanisms = _mechanisms(ctx, spec.mechanisms, report)
    people = random.Random(f"{spec.seed}/reviewers")  # noqa: S311 - apart: same seed, same cases
    reviewers = _reviewers(ctx, spec.reviewers, people, mechanisms[0].policy, report)
    writer = _Writer(ctx.session)
    assigner = _Assigner(reviewers)
    paths = {stage: lifecycle.path_to(stage) for stage in Stage}
    pick_mechanism = _Weighted({i: 1 / (1 + i) ** 0.5 for i in range(len(mechanisms))})
    drawn = done = 0

    def next_batch() -> _Batch | None:
        nonlocal drawn
        if drawn >= spec.cases:
            return None
        size = min(spec.batch_size, spec.cases - drawn)
        drawn += size
        drafts = [
            _draft(rng, now, mechanisms[pick_mechanism.draw(rng)], paths, assigner)
            for _ in range(size)
        ]
        return _reserve(ctx, writer, drafts, report)

    current = next_batch()
    assert current is not None
    _build(ctx, current, now, report)
    while current is not None:
        following = next_batch()  # while the connection is free
        with writer.writing(current.rows):
            if following is not None:
                _build(ctx, following, now, report)
        for name, rows in current.rows.items():
            report.rows[name] += len(rows)
        done += len(current.drafts)
        report.cases = done
        if after_batch is not None:
            after_batch(done)
        current = following
    report.seconds = time.perf_counter() - started
    return report


def _mechanisms(ctx: Context, count: int, report: Report) -> list[_Mechanism]:
    codes = [f"{MECHANISM_PREFIX}{number:02d}" for number in range(1, count + 1)]
    found = {
        row.code: row
        for row in ctx.session.scalars(select(Mechanism).where(Mechanism.code.in_(codes)))
    }
    for number, code in enumerate(codes, start=1):
        if code not in found:
            found[code] = Mechanism(
                code=code,
                name=f"Synthetic mechanism {number:02d}",
                sector=SECTORS[(number - 1) % len(SECTORS)],
                publishes_cases=True,
                receipt_salt=new_receipt_salt(),
                created_at=ctx.now(),
            )
            ctx.session.add(found[code])
            report.mechanisms_created.append(code)
    ctx.session.flush()
    report.mechanisms = codes
    result = []
    for code in codes:
        row = found[code]
        version = max((policy.version for policy in row.policies), default=0)
        policy = ctx.policy(row, version)
        result.append(
            _Mechanism(
                row=row,
                id=row.id,
                code=code,
                policy=policy,
                policy_version=version,
                starting={stage: policy.time_limits_starting_on(stage) for stage in Stage},
                languages=_Weighted(_policy_weights(policy.languages, LANGUAGE_WEIGHTS)),
                themes=_Weighted(_policy_weights(sorted(policy.theme_codes), THEME_WEIGHTS)),
                urgent_themes=policy.urgent_themes,
            )
        )
    return result


def _reviewers(
    ctx: Context, count: int, rng: random.Random, policy: Policy, report: Report
) -> list[_Reviewer]:
    """`reviewer-0001@…` to `reviewer-{count}@…`, made when missing. Their first languages
    are shared out as the cases' languages are (so that loads can be even); most read
    English too."""
    emails = [reviewer_email(number) for number in range(1, count + 1)]
    found = {
        user.email: user for user in ctx.session.scalars(select(User).where(User.email.in_(emails)))
    }
    # Each reviewer's first language in proportion to the cases' languages.
    primaries = _shares(_policy_weights(policy.languages, LANGUAGE_WEIGHTS), count)
    rng.shuffle(primaries)
    themes = sorted(policy.theme_codes)
    password_hash = None
    users = []
    for number, email in enumerate(emails, start=1):
        user = found.get(email)
        if user is None:
            if password_hash is None:  # one Argon2id hash for all: they are synthetic
                password_hash = hash_password(REVIEWER_PASSWORD, ctx.kdf)
            primary = primaries[number - 1]
            user = User(
                email=email,
                display_name=f"Synthetic reviewer {number:04d}",
                role=Role.REVIEWER,
                password_hash=password_hash,
                active=True,
                must_change_password=False,
                created_at=ctx.now(),
                reviewer_profile=ReviewerProfile(
                    languages=sorted({primary, "en"} if rng.random() < 0.8 else {primary}),
                    themes=sorted(rng.sample(themes, k=min(3, len(themes)))),
                    countries=sorted(set(COUNTRIES.get(primary, OTHER_COUNTRIES)[:2])),
                    capacity=10,
                    available=True,
                ),
            )
            ctx.session.add(user)
            report.reviewers_created += 1
        users.append(user)
    ctx.session.flush()
    report.reviewers = len(users)
    reviewers = []
    for user in users:
        profile = user.reviewer_profile
        if user.role is not Role.REVIEWER or profile is None:
            raise ValueError(f"{user.email} exists and is not a reviewer")
        reviewers.append(
            _Reviewer(
                user.id,
                frozenset(profile.languages),
                frozenset(profile.themes),
                frozenset(profile.countries),
            )
        )
    return reviewers


def _draft(
    rng: random.Random,
    now: datetime,
    mechanism: _Mechanism,
    paths: Mapping[Stage, list[Stage]],
    assigner: _Assigner,
) -> _Draft:
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
    lead, second = assigner.pick(language, open_case=path[-1] not in ENDED_STAGES)
    draft = _Draft(
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
    draft.scores = (_score(lead, draft), _score(second, draft))
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


# -- a batch ----------------------------------------------------------------------------


class _Chain:
    """A case's log as `caselog.append` writes it, with the hashes of
    `caselog.compute_hash` (checked against it once a batch, in `_check_chain`)."""

    def __init__(self, case_id: int, reference: str) -> None:
        self.case_id = case_id
        self.reference = reference
        self.case_json = _json_text(reference)
        self.rows: list[_EventRow] = []
        self.head = caselog.GENESIS

    def add(
        self,
        kind: str,
        at: datetime,
        role: Role,
        actor_id: int | None,
        payload: dict[str, Any],
        stage_from: Stage | None = None,
        stage_to: Stage | None = None,
    ) -> None:
        visibility = _visibility(kind, frozenset(payload))
        payload_json = _ENCODER.encode(payload)
        seq = len(self.rows) + 1
        source = stage_from.value if stage_from else None
        target = stage_to.value if stage_to else None
        body = (
            f'{{"actor_id":{"null" if actor_id is None else actor_id},'
            f'"actor_role":{_json_text(role.value)},"case":{self.case_json},'
            f'"created_at":"{_time_text(at)}","kind":{_json_text(kind)},'
            f'"payload":{payload_json},"prev":"{self.head}","seq":{seq},'
            f'"stage_from":{_json_text(source)},"stage_to":{_json_text(target)},'
            f'"visibility":{_json_text(visibility)}}}'
        )
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        self.rows.append(
            _EventRow(
                self.case_id,
                seq,
                kind,
                visibility,
                role.value,
                actor_id,
                source,
                target,
                payload_json,
                at,
                self.head,
                digest,
            )
        )
        self.head = digest


@cache
def _visibility(kind: str, fields: frozenset[str]) -> str:
    """The kind's visibility; refuses fields the kind does not declare (as `append` does)."""
    spec = caselog.EVENT_KINDS[kind]
    undeclared = sorted(fields - set(spec.fields))
    if undeclared:
        raise caselog.UnknownEventField(f"{kind}: undeclared payload fields {undeclared}")
    return spec.visibility.label


def _check_chain(chain: _Chain) -> None:
    """What `caselog` computes for these events must be what was written: a change of the
    log's format fails here, not later in verify-log."""
    for row in chain.rows:
        payload = json.loads(row.payload)
        event = CaseEvent(
            case_id=row.case_id,
            seq=row.seq,
            kind=row.kind,
            visibility=caselog.EVENT_KINDS[row.kind].visibility,
            actor_role=Role(row.actor_role),
            actor_id=row.actor_id,
            stage_from=Stage(row.stage_from) if row.stage_from else None,
            stage_to=Stage(row.stage_to) if row.stage_to else None,
            payload=payload,
            created_at=row.created_at,
            prev_hash=row.prev_hash,
        )
        if caselog.canonical(payload).decode() != row.payload:
            raise AssertionError(f"{row.kind}: the payload is not in caselog's canonical form")
        if caselog.compute_hash(event, chain.reference) != row.hash:
            raise AssertionError(f"{row.kind}: the hash differs from caselog.compute_hash")


@dataclass
class _Running:
    limit: TimeLimit
    opened: datetime
    due: datetime


def _advance(running: dict[str, _Running], mechanism: _Mechanism, until: datetime) -> None:
    """Limits met by events that are not generated count as met on time before `until`:
    a recurring one is renewed at each due time, the others end."""
    for code, item in list(running.items()):
        if not item.limit.ends_on_events:
            continue
        if not item.limit.recurring:
            if item.due <= until:
                del running[code]
            continue
        while item.due <= until:
            item.opened = item.due
            item.due = deadlines.due_at(item.limit, item.opened, mechanism.policy.calendar)


@dataclass
class _Batch:
    drafts: list[_Draft]
    references: list[str]
    case_ids: list[int]
    key_ids: list[int]
    #: Each table's rows (`_TABLES`), once built.
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


def _reserve(ctx: Context, writer: _Writer, drafts: list[_Draft], report: Report) -> _Batch:
    """Take the batch's reference numbers and ids (the references first: on SQLite, that
    write takes the write lock before the largest ids are read)."""
    wanted = Counter((draft.mechanism.code, draft.entered[0].year) for draft in drafts)
    rows_of = {draft.mechanism.code: draft.mechanism.row for draft in drafts}
    numbers: dict[tuple[str, int], Iterator[int]] = {
        (code, year): iter(reserve_numbers(ctx.session, rows_of[code], year, count))
        for (code, year), count in sorted(wanted.items())
    }
    references = [
        format_reference(code, year, next(numbers[(code, year)]))
        for code, year in ((draft.mechanism.code, draft.entered[0].year) for draft in drafts)
    ]
    batch = _Batch(
        drafts,
        references,
        writer.reserve_ids("case", len(drafts)),
        writer.reserve_ids("data_key", len(drafts)),
    )
    if report.first_case_id is None:
        report.first_case_id = batch.case_ids[0]
    report.last_case_id = batch.case_ids[-1]
    return batch


def _build(ctx: Context, batch: _Batch, now: datetime, report: Report) -> None:
    """The rows of a batch, in Python only (it runs while the previous batch is written)."""
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _TABLES}
    for index, (draft, reference, case_id, key_id) in enumerate(
        zip(batch.drafts, batch.references, batch.case_ids, batch.key_ids, strict=True)
    ):
        chain = _Chain(case_id, reference)
        running = _log_and_deadlines(chain, draft, now)
        _case_rows(ctx, rows, draft, chain, running, key_id, now, report)
        if index == 0:
            _check_chain(chain)
    batch.rows = rows


def _log_and_deadlines(chain: _Chain, draft: _Draft, now: datetime) -> dict[str, _Running]:
    """Walk the case along its path: the deadlines each stage opens and closes, the events
    that record it. Returns the deadlines open now."""
    mechanism = draft.mechanism
    running: dict[str, _Running] = {}
    for step, (stage, at) in enumerate(zip(draft.path, draft.entered, strict=True)):
        _advance(running, mechanism, at)
        closed = []
        for code, item in list(running.items()):
            if stage in item.limit.ends_on:
                state = DeadlineState.MET if at <= item.due else DeadlineState.MISSED
                closed.append({"code": code, "state": state.value})
                del running[code]
            elif stage in ENDED_STAGES:
                closed.append({"code": code, "state": DeadlineState.WAIVED.value})
                del running[code]
        opened = []
        for limit in mechanism.starting[stage]:
            if limit.code not in running:
                due = deadlines.due_at(limit, at, mechanism.policy.calendar)
                running[limit.code] = _Running(limit, at, due)
                opened.append({"code": limit.code, "due_at": _time_text(due)})
        changes: dict[str, Any] = {}
        if opened:
            changes["deadlines_opened"] = opened
        if closed:
            changes["deadlines_closed"] = closed
        if step == 0:
            _filed(chain, draft, at, changes)
        else:
            _assessed(chain, draft, before=at)
            _moved(chain, draft, draft.path[step - 1], stage, at, changes)
    _assessed(chain, draft, before=None)
    _advance(running, mechanism, now)
    return running


def _case_rows(
    ctx: Context,
    batch: dict[str, list[tuple[Any, ...]]],
    draft: _Draft,
    chain: _Chain,
    running: Mapping[str, _Running],
    key_id: int,
    now: datetime,
    report: Report,
) -> None:
    case_id = chain.case_id
    received = draft.entered[0]
    stage = draft.path[-1]
    ended = stage in ENDED_STAGES
    lead, second = draft.lead, draft.second
    high_risk = draft.reprisal is ReprisalRisk.HIGH
    urgent = draft.urgent or bool(set(draft.themes) & draft.mechanism.urgent_themes) or high_risk
    scale, scope, irremediability, likelihood = draft.severity or (None, None, None, None)
    rank = queue.rank(
        urgent=urgent,
        reprisal_high=high_risk,
        scale=scale,
        scope=scope,
        irremediability=irremediability,
        likelihood=likelihood,
    )
    next_due = min((item.due for item in running.values()), default=None)
    key = secrets.token_bytes(32)
    kek_version, wrapped = wrap_data_key(ctx.keyring, case_id, key)
    batch["data_key"].append(_DataKeyRow(key_id, case_id, kek_version, wrapped, received, None))
    acknowledged = Stage.ACKNOWLEDGED in draft.path
    batch["case"].append(
        _CaseRow(
            id=case_id,
            reference=chain.reference,
            mechanism_id=draft.mechanism.id,
            policy_version=draft.mechanism.policy_version,
            channel=draft.channel.value,
            language=draft.language,
            country=draft.country,
            site_id=None,
            urgent=draft.urgent,
            needs_interpreter=not (
                draft.language in lead.languages or draft.language in second.languages
            ),
            queue_rank=rank,
            next_due_at=next_due,
            stage=stage.value,
            stage_entered_at=draft.entered[-1],
            received_at=received,
            acknowledged_at=(
                draft.entered[draft.path.index(Stage.ACKNOWLEDGED)] if acknowledged else None
            ),
            closed_at=draft.entered[-1] if ended else None,
            clock_paused_at=None,
            severity_scale=scale,
            severity_scope=scope,
            severity_irremediability=irremediability,
            severity_likelihood=likelihood,
            reprisal_risk=draft.reprisal.value if draft.reprisal else None,
            statement_enc=seal_under(key, key_id, case_id, "statement", _STATEMENT),
            location_enc=None,
            companies_enc=None,
            occurred_enc=None,
            published=False,
            legal_hold=False,
            identities_erased_at=None,
            event_count=len(chain.rows),
            log_head=chain.head,
            created_at=received,
            updated_at=chain.rows[-1].created_at,
        )
    )
    batch["case_theme"].extend(_ThemeRow(case_id, theme) for theme in draft.themes)
    batch["complainant"].append(
        _ComplainantRow(
            case_id=case_id,
            anonymity=draft.anonymity.value,
            kind=draft.kind.value,
            language=draft.language,
            contact_channel=ContactChannel.NONE.value,
            name_enc=None,
            details_enc=None,
            represents_enc=None,
            contact_enc=None,
            phone_lookup=None,
            # No receipt code exists: a random lookup no code hashes to.
            receipt_lookup=secrets.token_hex(32),
            created_at=received,
            erased_at=None,
            contact_failed_at=None,
        )
    )
    for role, reviewer in ((AssignmentRole.LEAD, lead), (AssignmentRole.SECOND, second)):
        score, reasons = draft.scores[role is AssignmentRole.SECOND]
        batch["assignment"].append(
            _AssignmentRow(
                case_id,
                reviewer.id,
                role.value,
                _ENCODER.encode({"score": score, "reasons": reasons}),
                received,
                None,
                None,
            )
        )
    batch["deadline"].extend(
        _DeadlineRow(
            case_id=case_id,
            code=code,
            opened_at=item.opened,
            due_at=item.due,
            remind_at=deadlines.remind_at(item.limit, item.opened, item.due),
            reminded_at=None,
            escalated_at=None,
            extended_days=0,
            state=DeadlineState.OPEN.value,
            closed_at=None,
            paused_at=None,
            note="",
        )
        for code, item in sorted(running.items())
    )
    batch["case_event"].extend(chain.rows)

    report.stages[stage.value] += 1
    report.languages[draft.language] += 1
    if not ended:
        report.open_cases += 1
        report.loads.update((lead.id, second.id))
        report.overdue += next_due is not None and next_due < now
        report.first_band += rank < queue.BAND


def _filed(chain: _Chain, draft: _Draft, at: datetime, changes: dict[str, Any]) -> None:
    """`case_filed` and the two `reviewer_assigned` of routing, as `file_case` writes them."""
    chain.add(
        "case_filed",
        at,
        Role.SYSTEM,
        None,
        {
            "reference": chain.reference,
            "mechanism": draft.mechanism.code,
            "themes": draft.themes,
            "country": draft.country,
            "policy_version": draft.mechanism.policy_version,
            "channel": draft.channel.value,
            "language": draft.language,
            "urgent": draft.urgent,
            "complainant_kind": draft.kind.value,
            "anonymity": draft.anonymity.value,
            "recorded_by_staff": False,
            **changes,
        },
        stage_to=Stage.RECEIVED,
    )
    read_by_lead = draft.language in draft.lead.languages
    for role, reviewer in (
        (AssignmentRole.LEAD, draft.lead),
        (AssignmentRole.SECOND, draft.second),
    ):
        score, reasons = draft.scores[role is AssignmentRole.SECOND]
        read = read_by_lead or (
            role is AssignmentRole.SECOND and draft.language in reviewer.languages
        )
        chain.add(
            "reviewer_assigned",
            at,
            Role.SYSTEM,
            None,
            {
                "reviewer_id": reviewer.id,
                "role": role.value,
                "score": score,
                "reasons": reasons,
                "trigger": "case filed",
                "needs_interpreter": not read,
            },
        )


def _score(reviewer: _Reviewer, draft: _Draft) -> tuple[int, list[str]]:
    """A score and reasons as routing gives them (`routing.Score`), without the load."""
    reads = draft.language in reviewer.languages
    themes = sorted(set(draft.themes) & reviewer.themes)
    country = draft.country in reviewer.countries
    reasons = [
        f"language: {'reads' if reads else 'does not read'} {draft.language}",
        "themes: " + (", ".join(themes) if themes else "none of " + ", ".join(draft.themes)),
        f"country: {'' if country else 'not '}{draft.country}",
        "synthetic: assigned in turn by `grievance generate`, capacity ignored",
    ]
    return (1_000_000 if reads else 0) + 10_000 * (len(themes) + country), reasons


def _assessed(chain: _Chain, draft: _Draft, *, before: datetime | None) -> None:
    """The severity and reprisal risk, once, when their time comes before `before`."""
    if draft.assessed_at is None or draft.severity is None:
        return
    if before is not None and draft.assessed_at >= before:
        return
    if any(row.kind == "severity_assessed" for row in chain.rows):
        return
    scale, scope, irremediability, likelihood = draft.severity
    values = {
        "scale": scale,
        "scope": scope,
        "irremediability": irremediability,
        "likelihood": likelihood,
    }
    chain.add("severity_assessed", draft.assessed_at, Role.REVIEWER, draft.lead.id, values)
    if draft.reprisal is not None:
        level = {"level": draft.reprisal.value}
        chain.add("reprisal_risk_assessed", draft.assessed_at, Role.REVIEWER, draft.lead.id, level)


def _moved(
    chain: _Chain,
    draft: _Draft,
    source: Stage,
    target: Stage,
    at: datetime,
    changes: dict[str, Any],
) -> None:
    """`stage_changed` as `cases.transition` or `confirm_decision` writes it."""
    move = lifecycle.find(source, target)
    if move is None:  # pragma: no cover - the paths come from the lifecycle table
        raise ValueError(f"no move from {source} to {target}")
    payload: dict[str, Any] = {}
    role, actor_id = Role.COMPLAINANT, None  # appeals and withdrawals
    if Role.REVIEWER in move.roles and target is not Stage.WITHDRAWN:
        role, actor_id = Role.REVIEWER, draft.lead.id
        if move.four_eyes:  # proposed by the lead, confirmed by the second
            actor_id = draft.second.id
            payload["proposed_by"] = draft.lead.id
    if move.needs_reason:
        payload["reason"] = REASON
    payload.update(changes)
    chain.add("stage_changed", at, role, actor_id, payload, source, target)


# -- writing ----------------------------------------------------------------------------


class _Writer:
    """Bulk writes with the session's connection: `COPY` on PostgreSQL, in a thread while
    Python builds the next batch; the driver's executemany elsewhere, in turn."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.postgresql = self.dialect.name == "postgresql"
        self.preparer = self.dialect.identifier_preparer
        self.next_ids: dict[str, int] = {}
        for name, row_type in _TABLES.items():
            table = self.table(name)
            columns = set(row_type._fields)  # type: ignore[attr-defined]
            missing = {column.name for column in table.c if column.name not in columns}
            unknown = columns - {column.name for column in table.c}
            if unknown or (missing - {"id"}):
                raise RuntimeError(f"{name}: rows lack {missing} or have unknown {unknown}")
        if self.dialect.name == "sqlite":  # indexes that outgrow the 2 MB default cache crawl
            self.connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")

    @property
    def connection(self) -> Connection:
        """The session's connection (a new one after each commit)."""
        return self.session.connection()

    @staticmethod
    def table(name: str) -> sa.Table:
        return Base.metadata.tables[name]

    def reserve_ids(self, name: str, count: int) -> list[int]:
        """`count` unused ids of a table: from its sequence on PostgreSQL (safe beside
        other writers); elsewhere after the largest when the run began (SQLite: run it
        while nobody else writes; a collision fails, it cannot mix cases up)."""
        table = self.table(name)
        if self.postgresql:
            ids = self.connection.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :count)"
                ),
                {"table": self.preparer.format_table(table), "count": count},
            ).scalars()
            return sorted(ids)
        if name not in self.next_ids:
            largest = self.connection.execute(select(func.max(table.c.id))).scalar()
            self.next_ids[name] = (largest or 0) + 1
        first = self.next_ids[name]
        self.next_ids[name] = first + count
        return list(range(first, first + count))

    @contextmanager
    def writing(self, batch: Mapping[str, list[tuple[Any, ...]]]) -> Iterator[None]:
        """Write a batch's rows while the block runs: on PostgreSQL in a thread (the block
        must not use the session), so the database works while Python builds; elsewhere
        before the block."""
        connection = self.connection
        if not self.postgresql:
            self.write(connection, batch)
            yield
            return
        failed: list[BaseException] = []

        def run() -> None:
            try:
                self.write(connection, batch)
            except BaseException as error:  # raised again below, in the caller's thread
                failed.append(error)

        thread = threading.Thread(target=run, name="generate-copy", daemon=True)
        thread.start()
        try:
            yield
        finally:
            thread.join()
        if failed:
            raise failed[0]

    def write(self, connection: Connection, batch: Mapping[str, list[tuple[Any, ...]]]) -> None:
        for name in _TABLES:  # foreign keys first
            if batch.get(name):
                if self.postgresql:
                    self._copy(connection, name, batch[name])
                else:
                    self._insert(connection, name, batch[name])

    def _names(self, name: str) -> tuple[tuple[str, ...], str, str]:
        names: tuple[str, ...] = _TABLES[name]._fields  # type: ignore[attr-defined]
        columns = ", ".join(self.preparer.quote(column) for column in names)
        return names, self.preparer.format_table(self.table(name)), columns

    def _copy(self, connection: Connection, name: str, rows: list[tuple[Any, ...]]) -> None:
        _names, target, columns = self._names(name)
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _insert(self, connection: Connection, name: str, rows: list[tuple[Any, ...]]) -> None:
        names, target, columns = self._names(name)
        table = self.table(name)
        # Times are stored as their column type writes them: convert those columns only.
        times = [
            (index, table.c[column].type.dialect_impl(self.dialect).bind_processor(self.dialect))
            for index, column in enumerate(names)
            if isinstance(table.c[column].type, UTCDateTime)
        ]
        converted = []
        for row in rows:
            values = list(row)
            for index, process in times:
                if process is not None and values[index] is not None:
                    values[index] = process(values[index])
            converted.append(tuple(values))
        marks = ", ".join("?" for _ in names)
        # Names from the metadata, quoted; the values are bound.
        statement = f"INSERT INTO {target} ({columns}) VALUES ({marks})"  # noqa: S608
        connection.exec_driver_sql(statement, converted)


def settle(engine: sa.Engine) -> float | None:
    """VACUUM (ANALYZE) the tables `generate` fills, as autovacuum would have done to a
    database that grew slowly: planner statistics, and the visibility map that lets the
    planner answer from an index alone. Call it after the last commit: it runs outside any
    transaction. PostgreSQL only (elsewhere nothing happens). Returns the seconds it took,
    or None when a table stayed locked by someone else for SETTLE_LOCK_TIMEOUT."""
    started = time.perf_counter()
    if engine.dialect.name != "postgresql":
        return 0.0
    preparer = engine.dialect.identifier_preparer
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"SET lock_timeout = '{SETTLE_LOCK_TIMEOUT}'")
        try:
            for name in _TABLES:
                table = preparer.format_table(Base.metadata.tables[name])
                connection.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
        except sa.exc.OperationalError:
            return None
    return time.perf_counter() - started
