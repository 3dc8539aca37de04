"""The entry point of `grievance generate`: batches of drafted cases, their ids and
references reserved, their rows built in Python and written while the next batch builds."""

from __future__ import annotations

import json
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from grievance.crypto.vault import seal_under, wrap_data_key
from grievance.demo.generate.chain import Walk, check_chain, walk
from grievance.demo.generate.drafting import Assigner, Draft, Weighted, draw_case
from grievance.demo.generate.population import load_mechanisms, load_reviewers
from grievance.demo.generate.rows import (
    TABLES,
    AssignmentRow,
    CaseRow,
    ComplainantRow,
    DataKeyRow,
    DeadlineRow,
    ThemeRow,
)
from grievance.demo.generate.spec import STATEMENT, Report, Spec
from grievance.demo.generate.writer import Writer
from grievance.models import (
    AssignmentRole,
    ContactChannel,
    DeadlineState,
    ReprisalRisk,
    Stage,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import deadlines, lifecycle, loads, queue
from grievance.services.context import Context
from grievance.services.references import format_reference, reserve_numbers

_STATEMENT = STATEMENT.encode("utf-8")
# As `assignments.place_reviewer` stores an assignment's reasons (a JSON column).
_REASONS = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def generate(
    ctx: Context, spec: Spec, *, after_batch: Callable[[int], None] | None = None
) -> Report:
    """Write `spec.cases` synthetic cases (see the package docstring) with `ctx.session`;
    `after_batch(done)` runs after each batch (the command commits there; then it calls
    `settle`). Not for a production database: the command refuses to run there."""
    started = time.perf_counter()
    rng = random.Random(spec.seed)  # noqa: S311 - a reproducible spread, not a secret
    now = ctx.now().astimezone(UTC)
    report = Report()
    mechanisms = load_mechanisms(ctx, spec.mechanisms, report)
    people = random.Random(f"{spec.seed}/reviewers")  # noqa: S311 - apart: same seed, same cases
    reviewers = load_reviewers(ctx, spec.reviewers, people, mechanisms[0].policy, report)
    writer = Writer(ctx.session)
    assigner = Assigner(reviewers)
    paths = {stage: lifecycle.path_to(stage) for stage in Stage}
    pick_mechanism = Weighted({i: 1 / (1 + i) ** 0.5 for i in range(len(mechanisms))})
    drawn = done = 0

    def next_batch() -> Batch | None:
        nonlocal drawn
        if drawn >= spec.cases:
            return None
        size = min(spec.batch_size, spec.cases - drawn)
        drawn += size
        drafts = [
            draw_case(rng, now, mechanisms[pick_mechanism.draw(rng)], paths, assigner)
            for _ in range(size)
        ]
        return reserve(ctx, writer, drafts, report)

    current = next_batch()
    assert current is not None
    build(ctx, current, now, report)
    while current is not None:
        following = next_batch()  # while the connection is free
        with writer.writing(current.rows):
            if following is not None:
                build(ctx, following, now, report)
        for name, rows in current.rows.items():
            report.rows[name] += len(rows)
        done += len(current.drafts)
        report.cases = done
        if after_batch is not None:
            after_batch(done)
        current = following
    loads.recount(ctx.session)  # the rows above bypass the services that keep them
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class Batch:
    drafts: list[Draft]
    references: list[str]
    case_ids: list[int]
    key_ids: list[int]
    #: The ids of the proposals of the batch's four-eyes decisions, in the drafts' order.
    proposal_ids: list[int]
    #: Each table's rows (`rows.TABLES`), once built.
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


def reserve(ctx: Context, writer: Writer, drafts: list[Draft], report: Report) -> Batch:
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
    decisions = sum(draft.decisions for draft in drafts)
    batch = Batch(
        drafts,
        references,
        writer.reserve_ids("case", len(drafts)),
        writer.reserve_ids("data_key", len(drafts)),
        writer.reserve_ids("decision_proposal", decisions) if decisions else [],
    )
    if report.first_case_id is None:
        report.first_case_id = batch.case_ids[0]
    report.last_case_id = batch.case_ids[-1]
    return batch


def build(ctx: Context, batch: Batch, now: datetime, report: Report) -> None:
    """The rows of a batch, in Python only (it runs while the previous batch is written)."""
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in TABLES}
    proposal_ids = iter(batch.proposal_ids)
    for index, (draft, reference, case_id, key_id) in enumerate(
        zip(batch.drafts, batch.references, batch.case_ids, batch.key_ids, strict=True)
    ):
        walked = walk(draft, case_id, reference, proposal_ids, now)
        _case_rows(ctx, rows, draft, walked, key_id, now, report)
        if index == 0:
            check_chain(walked.chain)
    if next(proposal_ids, None) is not None:  # pragma: no cover - counted by Draft.decisions
        raise AssertionError("proposal ids left over")
    batch.rows = rows


def _case_rows(
    ctx: Context,
    batch: Mapping[str, list[tuple[Any, ...]]],
    draft: Draft,
    walked: Walk,
    key_id: int,
    now: datetime,
    report: Report,
) -> None:
    chain, running = walked.chain, walked.running
    case_id = chain.case_id
    received = draft.entered[0]
    stage = draft.path[-1]
    ended = stage in ENDED_STAGES
    lead, second = draft.lead, draft.second
    high_risk = draft.reprisal is ReprisalRisk.HIGH
    scale, scope, irremediability, likelihood = draft.severity or (None, None, None, None)
    rank = queue.rank(
        urgent=queue.urgency(
            urgent=draft.urgent,
            themes=draft.themes,
            reprisal_risk=draft.reprisal,
            urgent_themes=draft.mechanism.urgent_themes,
        ),
        reprisal_high=high_risk,
        scale=scale,
        scope=scope,
        irremediability=irremediability,
        likelihood=likelihood,
    )
    next_due = min((item.due for item in running.values()), default=None)
    key = secrets.token_bytes(32)
    kek_version, wrapped = wrap_data_key(ctx.keyring, case_id, key)
    batch["data_key"].append(DataKeyRow(key_id, case_id, kek_version, wrapped, received, None))
    acknowledged = Stage.ACKNOWLEDGED in draft.path
    batch["case"].append(
        CaseRow(
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
            unrouted_since=None,
            unrouted_reason=None,
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
    batch["case_theme"].extend(ThemeRow(case_id, theme) for theme in draft.themes)
    batch["complainant"].append(
        ComplainantRow(
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
            receipt_scheme_version=None,  # no scheme: no code opens it
            created_at=received,
            erased_at=None,
            contact_failed_at=None,
        )
    )
    for role, reviewer in ((AssignmentRole.LEAD, lead), (AssignmentRole.SECOND, second)):
        score, reasons = draft.scores[role is AssignmentRole.SECOND]
        batch["assignment"].append(
            AssignmentRow(
                case_id,
                reviewer.id,
                role.value,
                _REASONS.encode({"score": score, "reasons": reasons}),
                received,
                None,
                None,
                not ended,
                rank,
                next_due,
            )
        )
    batch["deadline"].extend(
        DeadlineRow(
            case_id=case_id,
            mechanism_id=draft.mechanism.id,
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
        if item.limit is not None
    )
    batch["decision_proposal"].extend(walked.proposals)
    batch["case_event"].extend(chain.rows)

    report.stages[stage.value] += 1
    report.languages[draft.language] += 1
    if not ended:
        report.open_cases += 1
        report.loads.update((lead.id, second.id))
        report.overdue += next_due is not None and next_due < now
        report.first_band += rank < queue.BAND
