"""Benchmark of the case log: filing, appending events, and verifying every chain.

    make bench                      # SQLite in a temporary directory
    DATABASE_URL=postgresql+psycopg://…/…bench… make bench

Prints figures; it is not a test. Receipt codes use the cheap test KDF here, so the
filing figure measures the database and the encryption, not Argon2id.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from common import bench_app
from sqlalchemy import text

from grievance.clock import FixedClock
from grievance.config import TEST_KDF
from grievance.extensions import db
from grievance.http.context import app_services
from grievance.models import (
    Anonymity,
    Channel,
    Mechanism,
    ReviewerProfile,
    Role,
    Stage,
    User,
)
from grievance.services import caselog, cases
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context
from grievance.services.filing import ComplainantDetails, Filing, file_case

CASES = int(os.environ.get("BENCH_CASES", "2000"))


def main() -> None:
    clock = FixedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    app = bench_app(clock)
    with app.app_context():
        session = db.session()
        ctx = Context(session=session, clock=clock, keyring=app_services(app).keyring, kdf=TEST_KDF)
        mechanism = Mechanism(
            code="BEN",
            name="Bench",
            sector="textile",
            created_at=clock.now(),
        )
        reviewers = []
        for number in range(2):
            user = User(
                email=f"r{number}@example.org",
                display_name="R",
                role=Role.REVIEWER,
                password_hash="x",
                created_at=clock.now(),
            )
            session.add(user)
            session.flush()
            session.add(ReviewerProfile(user_id=user.id, languages=["en"], capacity=CASES))
            reviewers.append(user)
        session.add(mechanism)
        session.commit()
        lead, second = (Actor.for_user(user) for user in reviewers)

        started = time.perf_counter()
        for number in range(CASES):
            filed = file_case(
                ctx,
                Filing(
                    mechanism=mechanism,
                    channel=Channel.WEB,
                    language="en",
                    statement=f"Statement number {number}: wages unpaid for three months.",
                    complainant=ComplainantDetails(anonymity=Anonymity.ANONYMOUS),
                    themes=["living_wage"],
                    country="BD",
                ),
                SYSTEM,
            )
            if number % 100 == 0:
                session.commit()
            # routing put reviewers[0] on as the lead, reviewers[1] as the second
            case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, lead)
            case = cases.transition(ctx, case, Stage.ADMISSIBILITY, lead)
            case = cases.transition(ctx, case, Stage.INVESTIGATION, lead, "Admissible.")
            proposal = cases.propose_decision(ctx, case, Stage.FINDINGS, lead, "Founded.")
            cases.confirm_decision(ctx, proposal, second)
            clock.advance(minutes=5)
        session.commit()
        elapsed = time.perf_counter() - started
        events = session.scalar(text("SELECT count(*) FROM case_event"))
        print(f"database: {db.engine.dialect.name}")
        print(
            f"filed and worked {CASES} cases ({events} events) in {elapsed:.1f} s: "
            f"{CASES / elapsed:.0f} cases/s, {events / elapsed:.0f} events/s"
        )

        started = time.perf_counter()
        broken = list(caselog.verify_all(session))
        elapsed = time.perf_counter() - started
        assert not broken, broken[:3]
        print(f"verify-log over {events} events: {elapsed:.2f} s, {events / elapsed:.0f} events/s")


if __name__ == "__main__":
    main()
