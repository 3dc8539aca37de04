"""Bulk writes for `grievance generate`: `COPY … FROM STDIN` on PostgreSQL (psycopg's
`cursor.copy`), in a thread while Python builds the next batch; the driver's executemany
elsewhere. Ids are reserved per batch (from the sequences on PostgreSQL). `settle` runs
VACUUM (ANALYZE) on what was written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from grievance.demo.generate.rows import TABLES
from grievance.models import Base
from grievance.models.base import UTCDateTime

#: How long `settle` waits for a table that someone else holds.
SETTLE_LOCK_TIMEOUT = "10s"
#: The page cache of the SQLite connection while it writes (the default is 2 MB).
SQLITE_CACHE_KB = 256 * 1024


class Writer:
    """Bulk writes with the session's connection: `COPY` on PostgreSQL, in a thread while
    Python builds the next batch; the driver's executemany elsewhere, in turn."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect
        self.postgresql = self.dialect.name == "postgresql"
        self.preparer = self.dialect.identifier_preparer
        self.next_ids: dict[str, int] = {}
        for name, row_type in TABLES.items():
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
        for name in TABLES:  # foreign keys first
            if batch.get(name):
                if self.postgresql:
                    self._copy(connection, name, batch[name])
                else:
                    self._insert(connection, name, batch[name])

    def _names(self, name: str) -> tuple[tuple[str, ...], str, str]:
        names: tuple[str, ...] = TABLES[name]._fields  # type: ignore[attr-defined]
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
            for name in TABLES:
                table = preparer.format_table(Base.metadata.tables[name])
                connection.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
        except sa.exc.OperationalError:
            return None
    return time.perf_counter() - started
