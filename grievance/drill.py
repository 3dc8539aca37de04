"""The restore drill (docs/deploy.md, "Backups"): back up a small database and its key
ring, destroy both, restore them, and check that nothing was lost.

    make restore-drill                       # SQLite in a temporary directory
    DATABASE_URL=postgresql+psycopg://…/…drill… make restore-drill   # pg_dump, pg_restore

It loads the demo data into a fresh database (PostgreSQL: the one DATABASE_URL names,
whose name must contain "drill" or "test": every table in it is dropped) with a new key
ring, and files a few more complaints through the services, keeping their receipt codes.
The backup is what an operator keeps: the database (`pg_dump --format=custom`, or SQLite's
online backup) and the key ring file, in two places. Both originals are then destroyed
(the schema dropped or the file deleted; the key ring forgotten), restored from the
backup alone, and checked with a new app: every sealed identity and statement opens,
every receipt code opens its own case, and every case's hash chain verifies.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url, select, text
from sqlalchemy.engine import URL

from grievance.clock import SystemClock
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import db

#: Complaints filed by the drill itself (their codes are known), beside the demo's.
FILED = 5


@dataclass
class DrillReport:
    cases: int = 0
    sealed_fields: int = 0
    codes: int = 0
    broken_logs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and not self.broken_logs and self.cases > 0

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"restore drill {verdict}: {self.cases} cases, {self.sealed_fields} sealed fields"
            f" opened, {self.codes} receipt codes opened their cases,"
            f" {len(self.broken_logs)} broken logs"
        ]
        lines += [f"  problem: {problem}" for problem in self.problems + self.broken_logs]
        return "\n".join(lines)


def _settings(url: str, instance: Path) -> Settings:
    return Settings(
        env="test",
        secret_key="restore-drill-secret-key-0123456789abcdef",  # noqa: S106 - a drill's
        database_url=url,
        public_base_url="http://localhost",
        instance_path=instance,
        kdf=TEST_KDF,
    )


def _app(url: str, instance: Path, keyring: Keyring):  # type: ignore[no-untyped-def]
    from grievance import create_app

    return create_app(_settings(url, instance), clock=SystemClock(), keyring=keyring)


def _fill(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The demo data and FILED more complaints; their receipt codes by case reference."""
    from flask_migrate import upgrade

    from grievance import MIGRATIONS
    from grievance.demo import load_demo
    from grievance.http.context import service_context
    from grievance.models import Anonymity, Channel, ContactChannel, Mechanism
    from grievance.services.actors import SYSTEM
    from grievance.services.filing import ComplainantDetails, Filing, file_case

    codes: dict[str, str] = {}
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=str(MIGRATIONS))
        ctx = service_context()
        load_demo(ctx)
        db.session.commit()
        mechanism = db.session.scalars(select(Mechanism).order_by(Mechanism.id)).first()
        assert mechanism is not None
        for number in range(FILED):
            filed = file_case(
                ctx,
                Filing(
                    mechanism=mechanism,
                    channel=Channel.WEB,
                    language="en",
                    statement=f"Drill complaint {number}: wages unpaid for three months.",
                    complainant=ComplainantDetails(
                        anonymity=Anonymity.OPEN,
                        name=f"Drill Person {number}",
                        details="Sewing line 4",
                        contact_channel=ContactChannel.EMAIL,
                        contact_address=f"drill{number}@example.org",
                    ),
                ),
                SYSTEM,
            )
            codes[filed.case.reference] = filed.receipt_code
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return codes


def _backup(url: URL, backup: Path) -> None:
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(str(url.database))
        target = sqlite3.connect(str(backup))
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        subprocess.run(  # noqa: S603 - fixed arguments, the operator's own database
            [_tool("pg_dump"), "--format=custom", f"--file={backup}", _libpq(url)], check=True
        )


def _destroy(url: URL) -> None:
    if url.get_backend_name() == "sqlite":
        database = Path(str(url.database))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            path.unlink(missing_ok=True)
    else:
        drop = "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
        subprocess.run([_tool("psql"), "-q", "-c", drop, _libpq(url)], check=True)  # noqa: S603


def _restore(url: URL, backup: Path) -> None:
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(backup, str(url.database))
    else:
        options = ["--no-owner", "--clean", "--if-exists", f"--dbname={_libpq(url)}"]
        subprocess.run([_tool("pg_restore"), *options, str(backup)], check=True)  # noqa: S603


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"the drill needs {name} (PostgreSQL's client tools) on the PATH")
    return found


def _libpq(url: URL) -> str:
    """The URL as libpq's tools take it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _check(app, codes: dict[str, str]) -> DrillReport:  # type: ignore[no-untyped-def]
    from grievance.http.context import service_context
    from grievance.models import Case, Complainant
    from grievance.services import logcheck
    from grievance.services.filing import find_complainant

    report = DrillReport()
    with app.app_context():
        ctx = service_context()
        vault = ctx.vault
        for case in db.session.scalars(select(Case).order_by(Case.id)):
            report.cases += 1
            for name in ("statement", "location", "companies", "occurred"):
                blob = getattr(case, f"{name}_enc")
                if blob:
                    try:
                        vault.open(case.id, name, blob)
                        report.sealed_fields += 1
                    except Exception as failed:
                        report.problems.append(f"{case.reference} {name}: {failed!r}")
        for person in db.session.scalars(select(Complainant).order_by(Complainant.id)):
            if person.erased_at is not None:
                continue
            for name in ("name", "details", "represents", "contact"):
                blob = getattr(person, f"{name}_enc")
                if blob:
                    try:
                        vault.open(person.case_id, f"complainant.{person.id}.{name}", blob)
                        report.sealed_fields += 1
                    except Exception as failed:
                        report.problems.append(f"complainant {person.id} {name}: {failed!r}")
        for reference, code in codes.items():
            found = find_complainant(ctx, code)
            opened = db.session.get(Case, found.case_id) if found is not None else None
            if opened is None or opened.reference != reference:
                report.problems.append(f"the receipt code of {reference} opens nothing")
            else:
                report.codes += 1
        report.broken_logs = [str(found) for found in logcheck.verify(db.session())]
        db.session.remove()
        db.engine.dispose()
    return report


def run_drill(database_url: str | None = None, workdir: Path | None = None) -> DrillReport:
    """The whole drill; the report says what was checked and what failed."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="restore-drill-"))
    url_text = database_url or f"sqlite:///{workdir / 'live.sqlite3'}"
    url = make_url(url_text)
    if url.get_backend_name() != "sqlite":
        name = url.database or ""
        if "drill" not in name and "test" not in name:
            raise SystemExit("the drill drops every table: name a database with 'drill' or 'test'")
    live_ring = workdir / "live-keyring.json"
    kept = workdir / "backup"  # the operator's two places, here side by side
    kept.mkdir(exist_ok=True)
    keyring = Keyring.generate()
    keyring.write(live_ring)
    codes = _fill(_app(url_text, workdir, Keyring.from_json(live_ring.read_text())))

    _backup(url, kept / "database.dump")
    shutil.copyfile(live_ring, kept / "keyring.json")

    _destroy(url)
    live_ring.unlink()
    del keyring

    _restore(url, kept / "database.dump")
    shutil.copyfile(kept / "keyring.json", live_ring)
    restored = Keyring.from_json(live_ring.read_text(), source=str(live_ring))
    return _check(_app(url_text, workdir, restored), codes)


def main() -> None:
    report = run_drill(os.environ.get("DATABASE_URL"))
    sys.stdout.write(f"{report}\n")
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
