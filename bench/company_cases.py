"""Benchmark of the company portal's case list (#13): a brand party to BENCH_COMPANY_CASES
(5,000) cases among BENCH_CASES (100,000; a million when asked), the first page and a
deep page, through the service and through the page, signed in as a user of the brand.

    make bench                                        # SQLite, 100,000 cases
    DATABASE_URL=postgresql+psycopg://…/…bench… BENCH_CASES=1000000 .venv/bin/python bench/company_cases.py

The cases come from `grievance generate`; the brand, and a few other companies sharing
the rest, are named in cases drawn at random in one INSERT … SELECT each (the generator
names no company). The deep page is BENCH_DEEP_PAGE (50), reached by following each
page's `after` key. Each figure is BENCH_REQUESTS (50) runs: the median and the 95th
percentile of the time in the server. On PostgreSQL the plan of the list query is
printed with EXPLAIN (ANALYZE, BUFFERS); on SQLite, EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import os
import random
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

from common import bench_app
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reviewer_queue import _captured, _FreshGClient, _percentiles

from grievance.clock import FixedClock
from grievance.config import TEST_KDF
from grievance.crypto.secrets import hash_password
from grievance.demo.generate import Spec, generate, settle
from grievance.extensions import db
from grievance.http.context import app_services
from grievance.models import Case, Company, CompanyKind, Role, User
from grievance.services import accounts, company_cases
from grievance.services.context import Context

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CASES = int(os.environ.get("BENCH_CASES", "100000"))
BRAND_CASES = int(os.environ.get("BENCH_COMPANY_CASES", "5000"))
OTHERS = int(os.environ.get("BENCH_OTHER_COMPANIES", "20"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
DEEP_PAGE = int(os.environ.get("BENCH_DEEP_PAGE", "50"))
PASSWORD = "bench-password-company"


def _name_in_cases(ctx: Context, company: Company, count: int, seed: int) -> None:
    """Name the company in `count` cases drawn at random, in one statement."""
    ids = ctx.session.scalars(select(Case.id)).all()
    chosen = random.Random(seed).sample(list(ids), min(count, len(ids)))
    ctx.session.execute(
        text(
            "INSERT INTO involvement (case_id, company_id, kind, rationale, version, created_at)"
            " VALUES (:case_id, :company_id, 'linked', '', 1, :now)"
        ),
        [{"case_id": case_id, "company_id": company.id, "now": NOW} for case_id in chosen],
    )


def _company(ctx: Context, name: str) -> Company:
    company = Company(name=name, kind=CompanyKind.BRAND, country="NL", created_at=NOW)
    ctx.session.add(company)
    ctx.session.flush()
    return company


def main() -> None:
    clock = FixedClock(NOW)
    app = bench_app(clock)
    with app.app_context():
        ctx = Context(
            session=db.session(), clock=clock, keyring=app_services(app).keyring, kdf=TEST_KDF
        )
        report = generate(ctx, Spec(cases=CASES), after_batch=lambda _done: db.session.commit())
        db.session.commit()
        brand = _company(ctx, "Bench Brand")
        _name_in_cases(ctx, brand, BRAND_CASES, 1)
        for number in range(OTHERS):  # the other companies share the rest
            _name_in_cases(
                ctx, _company(ctx, f"Bench Company {number}"), CASES // OTHERS, 2 + number
            )
        db.session.commit()
        involvements = ctx.session.scalar(select(func.count()).select_from(text("involvement")))
        print(
            f"{db.engine.dialect.name}: {report.cases:,} cases, {involvements:,} involvements;"
            f" the brand is in {BRAND_CASES:,}"
        )
        if db.engine.dialect.name == "postgresql":
            settle(db.engine)

        after = None
        for _ in range(DEEP_PAGE - 1):
            page = company_cases.company_cases(ctx, brand.id, after)
            if page.after is None:
                break
            after = page.after
        deep = after
        print(
            "service, first page:  "
            + _percentiles(lambda: company_cases.company_cases(ctx, brand.id), REQUESTS)
        )
        print(
            f"service, page {DEEP_PAGE}:     "
            + _percentiles(lambda: company_cases.company_cases(ctx, brand.id, deep), REQUESTS)
        )
        ctx.session.rollback()

        user = User(
            email="bench.brand@example.org",
            display_name="Bench Brand user",
            role=Role.COMPANY,
            company_id=brand.id,
            password_hash=hash_password(PASSWORD, ctx.kdf),
            created_at=NOW,
        )
        db.session.add(user)
        db.session.flush()
        seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
        db.session.commit()
        app.test_client_class = _FreshGClient
        client = app.test_client()
        _sign_in(client, user, seed, clock)

        def get(url: str) -> None:
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        print(
            "page GET /staff/company/:  " + _percentiles(lambda: get("/staff/company/"), REQUESTS)
        )
        print(
            f"page GET ?after= (p{DEEP_PAGE}): "
            + _percentiles(lambda: get(f"/staff/company/?after={deep}"), REQUESTS)
        )
        with _captured() as seen:
            company_cases.company_cases(ctx, brand.id, deep)
        statement, parameters = next(item for item in seen if "JOIN involvement" in item[0])
        postgresql = db.engine.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgresql else "EXPLAIN QUERY PLAN "
        rows = ctx.session.connection().exec_driver_sql(prefix + statement, parameters).all()
        print(f"\nThe list query, page {DEEP_PAGE}:")
        for row in rows:
            print("    " + (row[0] if postgresql else str(row[-1])))
        db.session.remove()
        db.engine.dispose()


def _sign_in(client, user: User, seed: bytes, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    import re

    def token(path: str) -> str:
        page = client.get(path).get_data(as_text=True)
        found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    response = client.post(
        "/staff/sign-in",
        data={"csrf_token": token("/staff/sign-in"), "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302, response.status_code
    code = accounts.totp_code(seed, accounts.totp_step(clock.now()))
    response = client.post(
        "/staff/sign-in/code", data={"csrf_token": token("/staff/sign-in/code"), "code": code}
    )
    assert response.status_code == 302, response.status_code


if __name__ == "__main__":
    main()
