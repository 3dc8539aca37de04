"""Demo data: two covenant mechanisms, their companies, reviewers and about thirty cases,
each taken through the real services so that its log is a plausible history.

`data.toml` beside this file holds the content (fictional companies and people). The
cases of `sms_case` are filed through the SMS dialogue itself (`intake.sms`), from fake
numbers: what the dialogue and the reviewers send them is marked sent without leaving
the system (`intake.sms.simulator.TerminalGateway`, silent). The loader is idempotent:
when the first mechanism exists it changes nothing. It commits as it goes once the first
text message is read (the SMS worker's functions are jobs), so a failure part-way leaves
a half-loaded demo: start again from an empty database.

The modules: `data` (the content, the password, the logins), `reference` (mechanisms,
companies, sites, people), `cases` (each case's timeline), `steps` (the service calls on
it), `accounts` (the demo accounts' second factor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from grievance.demo.accounts import enrol_demo_accounts
from grievance.demo.cases import PATHS, CaseLoader
from grievance.demo.data import DATA_FILE, DEMO_PASSWORD, demo_logins, read_data
from grievance.demo.reference import load_reference
from grievance.models import Mechanism
from grievance.services.context import Context

__all__ = [
    "DATA_FILE",
    "DEMO_PASSWORD",
    "PATHS",
    "Report",
    "demo_logins",
    "load_demo",
    "read_data",
]


@dataclass
class Report:
    created: bool
    logins: list[tuple[str, str]]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in self.counts.items())


def load_demo(ctx: Context, path: Path = DATA_FILE) -> Report:
    data = read_data(path)
    logins = demo_logins(data)
    first = data["mechanism"][0]["code"]
    if ctx.session.scalar(select(Mechanism).where(Mechanism.code == first)) is not None:
        return Report(created=False, logins=logins)
    cast = load_reference(ctx, data, ctx.now())
    loader = CaseLoader(ctx, cast)
    ordered = sorted(data["case"], key=lambda entry: -entry["received_days_ago"])
    texted = data.get("sms_case", [])
    # In the order they came, so that references follow it; the cases of `case` keep
    # their numbers (their times and phone numbers derive from them).
    timeline = sorted(
        [(-entry["received_days_ago"], 0, entry) for entry in texted]
        + [(-entry["received_days_ago"], number, entry) for number, entry in enumerate(ordered, 1)],
        key=lambda item: item[:2],
    )
    for _days, number, entry in timeline:
        if number:
            loader.case(number, entry)
        else:
            loader.sms_case(entry)
    loader.deliver_texts()
    enrol_demo_accounts(ctx, data)  # the second factor of the demo accounts
    counts = {
        "mechanisms": len(cast.mechanisms),
        "companies": len(cast.companies),
        "sites": len(cast.sites),
        "reviewers": len(cast.reviewers),
        "staff users": len(data["staff"]),
        "cases": len(ordered) + len(texted),
        "of them by text message": len(texted),
    }
    return Report(created=True, logins=logins, counts=counts)
