"""Fill the bench database (bench/run.py runs this once): the generator's cases, a brand
named in some of them, and the staff the bench signs in as, each with a known second
factor. Reads the state (key ring, secret key) on stdin; prints what run.py needs."""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from company_cases import _company, _name_in_cases
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from grievance import MIGRATIONS, create_app
from grievance.clock import SystemClock
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.crypto.secrets import hash_password
from grievance.demo.generate import REVIEWER_PASSWORD, Spec, generate, settle
from grievance.extensions import db
from grievance.models import Assignment, Role, User
from grievance.services import accounts
from grievance.services.context import Context

PASSWORD = "bench-password-staff-0123"


def main() -> None:
    state = json.loads(sys.stdin.read())
    cases = int(state["cases"])
    settings = Settings(
        env="test",
        secret_key=state["secret_key"],
        database_url=os.environ["BENCH_DATABASE_URL"],
        public_base_url="https://127.0.0.1",
        instance_path=Path(tempfile.mkdtemp()),
        kdf=TEST_KDF,
    )
    clock = SystemClock()
    app = create_app(settings, clock=clock, keyring=Keyring.from_json(state["keyring"]))
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=str(MIGRATIONS))
        ctx = Context(
            session=db.session(),
            clock=clock,
            keyring=Keyring.from_json(state["keyring"]),
            kdf=TEST_KDF,
        )
        generate(ctx, Spec(cases=cases), after_batch=lambda _done: db.session.commit())
        db.session.commit()
        brand = _company(ctx, "Bench Brand")
        _name_in_cases(ctx, brand, max(1, cases // 200), 1)
        loads = ctx.session.execute(
            select(Assignment.reviewer_id, func.count())
            .where(Assignment.ended_at.is_(None))
            .group_by(Assignment.reviewer_id)
            .order_by(func.count())
        ).all()
        typical, busiest = loads[len(loads) // 2], loads[-1]
        now = datetime.now(UTC)
        made = {}
        for role, email in (
            (Role.SECRETARIAT, "bench.secretariat@example.org"),
            (Role.COMPANY, "bench.brand@example.org"),
        ):
            user = User(
                email=email,
                display_name=f"Bench {role.value}",
                role=role,
                company_id=brand.id if role is Role.COMPANY else None,
                password_hash=hash_password(PASSWORD, ctx.kdf),
                created_at=now,
            )
            ctx.session.add(user)
            made[role.value] = user
        ctx.session.flush()
        out: dict[str, object] = {"typical_load": typical[1], "busiest_load": busiest[1]}
        people = {
            "typical": (ctx.session.get(User, typical[0]), REVIEWER_PASSWORD),
            "busiest": (ctx.session.get(User, busiest[0]), REVIEWER_PASSWORD),
            "secretariat": (made["secretariat"], PASSWORD),
            "company": (made["company"], PASSWORD),
        }
        for key, (user, password) in people.items():
            assert user is not None
            seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
            accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
            out[key] = [user.email, password, seed.hex()]
        db.session.commit()
        settle(db.engine)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
