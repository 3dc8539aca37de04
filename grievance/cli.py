"""`flask --app wsgi grievance …` commands: thin callers of services."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext

from grievance.extensions import db


@click.group("grievance")
def grievance_commands() -> None:
    """Grievance mechanism administration."""


@grievance_commands.command("verify-log")
@click.argument("reference", required=False)
@with_appcontext
def verify_log(reference: str | None) -> None:
    """Check the hash chain of every case's log (or one case's).

    Exits with status 1 and names the first broken event of each broken case.
    """
    from grievance.models import Case
    from grievance.services.caselog import verify_all

    if reference is not None and db.session.query(Case).filter_by(reference=reference).count() == 0:
        click.echo(f"No case {reference}.", err=True)
        sys.exit(2)
    broken = 0
    for found in verify_all(db.session(), reference):
        broken += 1
        click.echo(f"BROKEN {found}", err=True)
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
    """Load the demo data once (a second run changes nothing) and print the logins."""
    from grievance import service_context
    from grievance.demo import DEMO_PASSWORD, load_demo

    ctx = service_context()
    report = load_demo(ctx)
    db.session.commit()
    if report.created:
        click.echo(f"Loaded demo data: {report.summary}.")
    else:
        click.echo("Demo data already present: nothing changed.")
    click.echo("\nDemo logins (password for all: " + DEMO_PASSWORD + "):")
    for role, email in report.logins:
        click.echo(f"  {role:<12} {email}")


@grievance_commands.command("worker")
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron or tests).")
@with_appcontext
def worker(once: bool) -> None:
    """Run the scheduler: deadline sweep, retention, effectiveness reviews."""
    from flask import current_app

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
    from grievance import service_context
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


def main() -> None:
    """The `grievance` console script: the Flask CLI bound to this app."""
    from grievance import create_app

    cli = FlaskGroup(create_app=lambda: create_app())
    cli.main(prog_name="grievance")
