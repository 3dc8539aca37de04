"""`flask --app wsgi grievance …` commands: thin callers of services."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from grievance.crypto.keyring import Keyring
from grievance.extensions import db
from grievance.http.context import current_settings, replace_keyring, service_context
from grievance.services.context import Context

if TYPE_CHECKING:
    from grievance.services.keys import SealedColumn


@click.group("grievance")
def grievance_commands() -> None:
    """Grievance mechanism administration."""


@grievance_commands.command("verify-log")
@click.argument("reference", required=False)
@with_appcontext
def verify_log(reference: str | None) -> None:
    """Check the hash chain of every case's log (or one case's), in bounded memory, and
    that every event integrated in the transparency log is still its leaf there.

    Exits with status 1 and names the first broken event of each broken case.
    """
    from grievance.models import Case
    from grievance.services.logcheck import verify
    from grievance.services.transparency import verify_tree

    if reference is not None and db.session.query(Case).filter_by(reference=reference).count() == 0:
        click.echo(f"No case {reference}.", err=True)
        sys.exit(2)
    broken = 0
    for found in verify(db.session(), reference):
        broken += 1
        click.echo(f"BROKEN {found}", err=True)
    for problem in verify_tree(db.session(), reference):
        broken += 1
        click.echo(f"BROKEN {problem}", err=True)
    checked = reference or "every case"
    if broken:
        click.echo(f"{broken} broken log(s) found checking {checked}.", err=True)
        sys.exit(1)
    click.echo(f"OK: the log of {checked} is intact.")


@grievance_commands.command("check-policy")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def check_policy(path: Path) -> None:
    """Validate a policy file before it is used."""
    from grievance.policies import PolicyError, load_policy

    try:
        policy = load_policy(path)
    except PolicyError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(
        f"OK: {len(policy.time_limits)} time limits, {len(policy.themes)} themes, "
        f"{len(policy.remedy_types)} remedy types, {len(policy.languages)} languages."
    )


@grievance_commands.command("demo-data")
@with_appcontext
def demo_data() -> None:
    """Load the demo data once (a second run changes nothing) and print the logins.
    Never in production: its accounts share one known password."""
    from grievance.demo import DEMO_PASSWORD, load_demo

    if current_settings().env == "production":
        click.echo(
            "demo-data makes accounts with a known password: it never runs in production.",
            err=True,
        )
        sys.exit(2)
    from grievance.services.mailbox import cancel_all_pending

    ctx = service_context()
    report = load_demo(ctx)
    if report.created:
        # the demo's history is not mailed (its addresses are made up); what happens
        # from now on is (under instance/mail/ unless SMTP_URL is set)
        cancel_all_pending(ctx)
    db.session.commit()
    if report.created:
        click.echo(f"Loaded demo data: {report.summary}.")
    else:
        click.echo("Demo data already present: nothing changed.")
    click.echo("\nDemo logins (password for all: " + DEMO_PASSWORD + "):")
    for role, email in report.logins:
        click.echo(f"  {role:<12} {email}")
    click.echo(
        "Reviewers, secretariat and admin also give a code at /staff/sign-in: "
        "GRIEVANCE_ENV=development .venv/bin/flask --app wsgi grievance demo-otp EMAIL"
    )


@grievance_commands.command("generate")
@click.option("--cases", type=click.IntRange(min=1), required=True, help="How many cases.")
@click.option(
    "--mechanisms",
    type=click.IntRange(1, 99),
    default=3,
    show_default=True,
    help="Spread over SYN01 … (made when missing).",
)
@click.option(
    "--reviewers",
    type=click.IntRange(min=2),
    default=50,
    show_default=True,
    help="Assigned in turn, capacity ignored (made when missing).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed, the same spread."
)
@with_appcontext
def generate_command(cases: int, mechanisms: int, reviewers: int, seed: int) -> None:
    """Fill this database with synthetic cases for load tests and benchmarks: their
    reviewers, deadlines, hash-chained logs and sealed statements (see
    grievance/demo/generate/). Commits every 10,000 cases. Never in production."""
    from grievance.demo.generate import Spec, generate, settle

    if current_settings().env == "production":
        click.echo("generate writes synthetic cases: it never runs in production.", err=True)
        sys.exit(2)
    spec = Spec(cases=cases, mechanisms=mechanisms, reviewers=reviewers, seed=seed)

    def committed(done: int) -> None:
        db.session.commit()
        if cases > spec.batch_size:
            click.echo(f"  {done:,} of {cases:,} cases written", err=True)

    report = generate(service_context(), spec, after_batch=committed)
    db.session.commit()
    click.echo(report.summary)
    if db.engine.dialect.name == "postgresql":
        took = settle(db.engine)
        if took is None:
            click.echo("VACUUM (ANALYZE) skipped: the tables are busy; autovacuum will do it.")
        else:
            click.echo(f"VACUUM (ANALYZE) of the tables written: {took:.1f} s.")


@grievance_commands.command("demo-otp")
@click.argument("email")
@with_appcontext
def demo_otp(email: str) -> None:
    """Print the current sign-in code of a demo account (demo data only, never in
    production; see grievance/demo/accounts.py for what counts as a demo account)."""
    from grievance.demo.accounts import current_code, demo_account

    production = current_settings().env == "production"
    ctx = service_context()
    user = demo_account(ctx, email, production=production)
    if user is None:
        reason = "in production" if production else "for this address"
        click.echo(f"No demo account with a second factor {reason}: no code.", err=True)
        sys.exit(2)
    click.echo(current_code(ctx, user))


@grievance_commands.command("sms-sim")
@click.option("--from", "number", required=True, help="The phone number texting (+…).")
@click.option("--whatsapp", is_flag=True, help="Text on WhatsApp instead of SMS.")
@click.option("--mechanism", "code", default=None, help="File with this mechanism (new numbers).")
@click.option("--yes-production", is_flag=True, help="Run even when GRIEVANCE_ENV=production.")
@with_appcontext
def sms_sim(number: str, whatsapp: bool, code: str | None, yes_production: bool) -> None:
    """Chat with the SMS dialogue in the terminal, against this database: each line is
    one inbound message; the replies show with their encoding and segments. Complaints
    sent here are filed as real cases. /wait 30m lets time pass, /quit ends."""
    from dataclasses import replace

    from intake.sms.conversations import SmsSettings
    from intake.sms.simulator import simulate

    settings = current_settings()
    if settings.env == "production" and not yes_production:
        click.echo(
            "sms-sim files real cases: it does not run in production without --yes-production.",
            err=True,
        )
        sys.exit(2)
    sms = SmsSettings.from_settings(settings)
    if code:
        sms = replace(sms, mechanism_code=code)
    stdin = sys.stdin
    interactive = stdin.isatty()
    try:
        simulate(
            service_context(),
            sms,
            number,
            _typed_lines() if interactive else stdin,
            click.echo,
            whatsapp=whatsapp,
            to=settings.twilio_from_number or "sms-sim",
            echo=not interactive,
            dim=lambda text: click.style(text, dim=True),
        )
    except ValueError as error:
        click.echo(f"sms-sim: {error}.", err=True)
        sys.exit(2)


def _typed_lines() -> Iterator[str]:
    """Lines typed at a terminal (with line editing), until Ctrl-D (or Ctrl-C)."""
    from intake.sms.simulator import INPUT_MARK

    while True:
        try:
            yield input(INPUT_MARK)
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return


@grievance_commands.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True, help="Display name.")
@with_appcontext
def create_admin(email: str, name: str) -> None:
    """Create an administrator account (the first one, in production) and print its
    temporary password once; it must be changed, and an authenticator app set up, at
    the first sign-in."""
    from grievance.models import Role
    from grievance.services import accounts
    from grievance.services.actors import SYSTEM

    try:
        created = accounts.create_user(
            service_context(), SYSTEM, email=email, display_name=name, role=Role.ADMIN
        )
    except accounts.AccountRejected as refused:
        problems = ", ".join(
            f"{name}: {problem.value}" for name, problem in refused.problems.items()
        )
        click.echo(f"No account created ({problems}).", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Administrator account created (user {created.user.id}).")
    click.echo("Temporary password (shown only now; changed at the first sign-in):")
    click.echo(f"  {created.temporary_password}")
    click.echo("Sign in at /staff/sign-in, then set up an authenticator app.")


@grievance_commands.command("rotate-keys")
@click.option(
    "--receipt-pepper",
    is_flag=True,
    help="Also start a new receipt-code key: new codes use it, issued ones keep theirs "
    "(each version holding codes costs every code attempt one more Argon2id hash).",
)
@click.option(
    "--checkpoint-key",
    is_flag=True,
    help="Also start a new key signing the transparency log's checkpoints (publish its "
    "verifier key: /api/v1/transparency/key).",
)
@with_appcontext
def rotate_keys(receipt_pepper: bool, checkpoint_key: bool) -> None:
    """Add a new version of each key of the key ring and bring the data to it: a new
    key-encryption key re-wraps every data key; new keys for staff TOTP seeds, SMS rows
    and the outbox re-seal what they seal. The lookup key (phone numbers) stays.

    Restart every web server and worker afterwards (they hold the key ring in memory);
    then `retire-keys` drops the versions nothing uses any more.
    """
    from grievance.crypto.keyring import SEALING_PURPOSES, Purpose
    from grievance.services.keys import reseal_all, rewrap_all, rotated_keyring, versions_in_use

    path = _keyring_file()
    # The new versions are written first, so that a run cut short leaves a key ring that
    # still opens everything; running the command again finishes the job.
    rotated = rotated_keyring(
        Keyring.from_file(path), receipt_pepper=receipt_pepper, checkpoint_key=checkpoint_key
    )
    rotated.write(path)
    replace_keyring(rotated)
    ctx = _context_with(rotated)
    count = rewrap_all(ctx)
    resealed = reseal_all(ctx, sealed_columns())
    click.echo(f"Key version {rotated.current} is current; {count} data keys re-wrapped.")
    click.echo(f"Data keys per key version: {versions_in_use(ctx)}")
    for purpose in SEALING_PURPOSES:
        click.echo(
            f"{purpose.value} key version {rotated.current_version(purpose)} is current; "
            f"{resealed.get(purpose, 0)} values re-sealed."
        )
    if receipt_pepper:
        click.echo(
            f"receipt key version {rotated.current_version(Purpose.RECEIPT)} is current: "
            "new receipt codes use it, issued codes keep theirs."
        )
    if checkpoint_key:
        click.echo(
            f"checkpoint key version {rotated.current_version(Purpose.CHECKPOINT)} is "
            "current: the next checkpoints are signed with it."
        )


@grievance_commands.command("retire-keys")
@with_appcontext
def retire_keys() -> None:
    """Drop the key versions nothing uses (after every process runs the new ring): key-
    encryption keys no data key is wrapped with, sealing keys no stored value is sealed
    with, receipt-code keys no issued code needs."""
    from grievance.crypto.keyring import Purpose
    from grievance.services.keys import retire_unused_keys

    path = _keyring_file()
    kept = retire_unused_keys(_context_with(Keyring.from_file(path)), sealed_columns())
    kept.write(path)
    click.echo(f"Key versions kept: {', '.join(map(str, sorted(kept.keks)))}.")
    for purpose in Purpose:
        click.echo(
            f"{purpose.value} key versions kept: {', '.join(map(str, kept.versions(purpose)))}."
        )


def sealed_columns() -> tuple[SealedColumn, ...]:
    """Every column sealed with a purpose key: the services' and the SMS channel's (with
    the channel's own `info` and associated data, so they are written in one place)."""
    from grievance.models import InboundSms, SmsConversation
    from grievance.services.keys import SEALED_COLUMNS, SealedColumn
    from intake.sms import rows

    return (
        *SEALED_COLUMNS,
        SealedColumn(
            rows._INFO,
            InboundSms.address_enc,
            lambda row: rows._inbound_ad(row.provider_sid, "address"),
        ),
        SealedColumn(
            rows._INFO, InboundSms.body_enc, lambda row: rows._inbound_ad(row.provider_sid, "body")
        ),
        SealedColumn(
            rows._INFO,
            SmsConversation.address_enc,
            lambda row: rows._conversation_ad(row.handle, "address"),
        ),
        SealedColumn(
            rows._INFO,
            SmsConversation.state_enc,
            lambda row: rows._conversation_ad(row.handle, "state"),
        ),
    )


def _keyring_file() -> Path:
    path: Path | None = current_settings().keyring_file
    if path is None:
        click.echo("Rotation writes the key ring: set GRIEVANCE_KEYRING_FILE.", err=True)
        sys.exit(2)
    return path


def _context_with(keyring: Keyring) -> Context:
    from dataclasses import replace

    return replace(service_context(), keyring=keyring)


@grievance_commands.command("worker")
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron or tests).")
@with_appcontext
def worker(once: bool) -> None:
    """Run the scheduler: deadline sweep, retention, effectiveness reviews."""
    from grievance.scheduler import run_forever, run_once

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        run_once(app)
    else:
        run_forever(app)


@grievance_commands.command("deadlines")
@click.option("--mechanism", "codes", multiple=True, help="Mechanism code (all if none).")
@click.option("--days", default=7, show_default=True, help="How far ahead 'due soon' looks.")
@with_appcontext
def deadlines_command(codes: tuple[str, ...], days: int) -> None:
    """What is overdue and what is due soon, by reviewer and by company."""
    from grievance.services.overview import deadline_overview

    overview = deadline_overview(service_context(), codes, days)
    for title, rows in (
        ("Overdue", overview.overdue),
        (f"Due within {days} days", overview.due_soon),
    ):
        click.echo(f"{title}: {len(rows)}")
        for row in rows:
            click.echo(
                f"  {row.due_at:%Y-%m-%d %H:%M} UTC  {row.reference:<15} {row.code:<20} "
                f"{row.reviewer or '(unassigned)'}  [{', '.join(row.companies)}]"
            )
    for title, counts in (
        ("By reviewer", overview.by_reviewer),
        ("By company", overview.by_company),
    ):
        click.echo(f"{title} (overdue / due soon):")
        for name, (overdue, soon) in counts.items():
            click.echo(f"  {name}: {overdue} / {soon}")
