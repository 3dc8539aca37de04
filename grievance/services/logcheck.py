"""`verify-log` at scale: every case's hash chain checked in bounded memory.

`caselog.verify_all` loads each event as an ORM object: about 12,700 events a second, and
the session kept every object (899 MB for 6.4 million events). Here the cases are read in
chunks of `CASES_PER_CHUNK` by id, each chunk's events in one ordered query of plain rows
(no ORM objects), and each event's hash is recomputed from its row by
`canonical.event_digest` (form 2: a salted digest per field): memory holds one chunk,
whatever the number of cases. The checks and their messages are those of
`caselog._verify`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.models import Case, CaseEvent
from grievance.services.canonical import event_digest
from grievance.services.caselog import GENESIS, Break

#: Cases read at once (their heads, then their events in one query).
CASES_PER_CHUNK = 2000

_EVENT_COLUMNS = (
    CaseEvent.case_id,
    CaseEvent.id,
    CaseEvent.seq,
    CaseEvent.kind,
    CaseEvent.visibility,
    CaseEvent.actor_role,
    CaseEvent.actor_id,
    CaseEvent.stage_from,
    CaseEvent.stage_to,
    CaseEvent.payload,
    CaseEvent.salts,
    CaseEvent.created_at,
    CaseEvent.prev_hash,
    CaseEvent.hash,
)


@dataclass
class _Chain:
    """One case's chain as far as it was read."""

    reference: str
    event_count: int
    log_head: str
    previous: str = GENESIS
    expected: int = 1
    broken: bool = False

    def end(self) -> Break | None:
        count = self.expected - 1
        if self.broken or (
            count == self.event_count and self.previous == (self.log_head or GENESIS)
        ):
            return None
        return Break(
            self.reference,
            None,
            None,
            f"the case records {self.event_count} events ending in {self.log_head[:12]}, "
            f"the log holds {count} ending in {self.previous[:12]} "
            "(events deleted or added at the end)",
        )


def verify(
    session: Session, reference: str | None = None, chunk: int = CASES_PER_CHUNK
) -> Iterator[Break]:
    """The first break of every broken chain (of one case's, given its reference), and
    each event of a case that does not exist; nothing when every chain holds."""
    last_id = 0
    while True:
        heads_query = (
            select(Case.id, Case.reference, Case.event_count, Case.log_head)
            .where(Case.id > last_id)
            .order_by(Case.id)
            .limit(chunk)
        )
        if reference is not None:
            heads_query = heads_query.where(Case.reference == reference)
        heads = session.execute(heads_query).all()
        chains = {row.id: _Chain(row.reference, row.event_count, row.log_head) for row in heads}
        final = len(heads) < chunk
        events_query = select(*_EVENT_COLUMNS).where(CaseEvent.case_id > last_id)
        if reference is not None:
            events_query = events_query.where(CaseEvent.case_id.in_(list(chains)))
        elif not final:  # the last chunk also reads events past the last case
            events_query = events_query.where(CaseEvent.case_id <= heads[-1].id)
        events_query = events_query.order_by(CaseEvent.case_id, CaseEvent.seq, CaseEvent.id)
        yield from _check(session, events_query, chains)
        for chain in chains.values():
            found = chain.end()
            if found is not None:
                yield found
        if final:
            return
        last_id = heads[-1].id
        session.expunge_all()  # nothing stays behind a chunk


def _check(session: Session, query: object, chains: dict[int, _Chain]) -> Iterator[Break]:
    # Core rows on the session's connection (no ORM loading), fetched 5,000 at a time.
    connection = session.connection()
    rows = connection.execute(query.execution_options(yield_per=5000))  # type: ignore[attr-defined]
    for (
        case_id,
        event_id,
        seq,
        kind,
        visibility,
        actor_role,
        actor_id,
        stage_from,
        stage_to,
        payload,
        salts,
        created_at,
        prev_hash,
        stored_hash,
    ) in rows:
        chain = chains.get(case_id)
        if chain is None:
            yield Break(f"case id {case_id}", seq, event_id, "event of a case that does not exist")
            chains[case_id] = chain = _Chain(f"case id {case_id}", 0, GENESIS, broken=True)
            continue
        if chain.broken:
            continue
        problem = None
        if seq != chain.expected:
            problem = (
                f"sequence number {seq} where {chain.expected} was expected "
                "(an event was deleted, inserted or renumbered)"
            )
        elif prev_hash != chain.previous:
            problem = "does not point to the previous event's hash (deleted, inserted or reordered)"
        else:
            digest = event_digest(
                chain.reference,
                seq,
                kind,
                visibility,
                actor_role,
                actor_id,
                stage_from,
                stage_to,
                payload,
                salts,
                created_at,
                prev_hash,
            )
            if digest != stored_hash:
                problem = "content does not match its hash (altered)"
        if problem is not None:
            chain.broken = True
            yield Break(chain.reference, seq, event_id, problem)
            continue
        chain.previous = stored_hash
        chain.expected += 1
