"""Reviewers' loads for routing: open assignments on cases that have not ended.

Counting them at each filing read every active assignment (at a million cases, 1.1 s of
sequential scans while the mechanism's reference number was locked). Instead each change
writes a row of `ReviewerLoad` (+1 or -1) in the transaction that makes it: a reviewer
put on an open case or taken off it (`assignments`), a case that ends or is reopened
(`cases`). Rows are only inserted, never updated, so no two filings wait for each other's
reviewers. A load is the sum of the reviewer's rows; `compact` (the worker, with the
deadline sweep) folds them into one row per reviewer, so the sum stays a few rows.
`recount` writes them afresh from the assignments (bulk loads, migrations, a check).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from grievance.models import Assignment, ReviewerLoad


def change(session: Session, reviewer_ids: Iterable[int], delta: int) -> None:
    """Add `delta` to the load of each of `reviewer_ids`, in the caller's transaction."""
    rows = [{"reviewer_id": reviewer_id, "delta": delta} for reviewer_id in reviewer_ids]
    if rows and delta:
        session.execute(insert(ReviewerLoad), rows)


def summed() -> Select[tuple[int, int]]:
    """Each reviewer's load (those with rows), as a query to join (`routing.candidates`)."""
    return select(ReviewerLoad.reviewer_id, func.sum(ReviewerLoad.delta).label("load")).group_by(
        ReviewerLoad.reviewer_id
    )


def of(session: Session, reviewer_ids: Collection[int]) -> dict[int, int]:
    """The load of each of `reviewer_ids` (0 for one without any)."""
    found = dict(
        session.execute(
            select(ReviewerLoad.reviewer_id, func.sum(ReviewerLoad.delta))
            .where(ReviewerLoad.reviewer_id.in_(reviewer_ids))
            .group_by(ReviewerLoad.reviewer_id)
        )
        .tuples()
        .all()
    )
    return {reviewer_id: int(found.get(reviewer_id) or 0) for reviewer_id in reviewer_ids}


def compact(session: Session) -> int:
    """Fold every reviewer's rows into one (the rows it deletes, exactly those, are summed:
    a change committed meanwhile stays as it is). Returns the rows folded away."""
    gone = session.execute(
        delete(ReviewerLoad).returning(ReviewerLoad.reviewer_id, ReviewerLoad.delta)
    ).all()
    sums: Counter[int] = Counter()
    for reviewer_id, delta in gone:
        sums[reviewer_id] += delta
    change_rows = [
        {"reviewer_id": reviewer_id, "delta": total} for reviewer_id, total in sums.items() if total
    ]
    if change_rows:
        session.execute(insert(ReviewerLoad), change_rows)
    return len(gone) - len(change_rows)


def recount(session: Session) -> None:
    """Every load counted again from the assignments (after a bulk load of cases)."""
    session.execute(delete(ReviewerLoad))
    counted = session.execute(
        select(Assignment.reviewer_id, func.count())
        .where(Assignment.ended_at.is_(None), Assignment.case_open)
        .group_by(Assignment.reviewer_id)
    ).all()
    if counted:
        session.execute(
            insert(ReviewerLoad),
            [{"reviewer_id": reviewer_id, "delta": total} for reviewer_id, total in counted],
        )
