"""Human-readable case references, numbered per mechanism and year: TEX-2026-00042."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from grievance.models import Mechanism, ReferenceCounter


def next_reference(session: Session, mechanism: Mechanism, year: int) -> str:
    """Take the next number atomically (an upsert, so two filings never share one)."""
    numbers = reserve_numbers(session, mechanism, year, 1)
    return format_reference(mechanism.code, year, numbers[0])


def reserve_numbers(session: Session, mechanism: Mechanism, year: int, count: int) -> range:
    """Take the next `count` numbers of a mechanism's year at once (bulk loads)."""
    dialect = session.get_bind().dialect.name
    values = {"mechanism_id": mechanism.id, "year": year, "last_number": count}
    if dialect == "postgresql":
        pg_insert = postgresql.insert(ReferenceCounter).values(**values)
        statement = pg_insert.on_conflict_do_update(
            index_elements=["mechanism_id", "year"],
            set_={"last_number": ReferenceCounter.last_number + count},
        ).returning(ReferenceCounter.last_number)
    elif dialect == "sqlite":
        lite_insert = sqlite.insert(ReferenceCounter).values(**values)
        statement = lite_insert.on_conflict_do_update(
            index_elements=["mechanism_id", "year"],
            set_={"last_number": ReferenceCounter.last_number + count},
        ).returning(ReferenceCounter.last_number)
    else:  # pragma: no cover - only the two databases above are supported
        raise RuntimeError(f"unsupported database {dialect}")
    last: int = session.execute(statement).scalar_one()
    return range(last - count + 1, last + 1)


def format_reference(code: str, year: int, number: int) -> str:
    return f"{code}-{year}-{number:05d}"


def reset_counter(session: Session, mechanism: Mechanism, year: int, last_number: int) -> None:
    session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.mechanism_id == mechanism.id, ReferenceCounter.year == year)
        .values(last_number=last_number)
    )
