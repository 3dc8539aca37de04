"""Demo data: two covenant mechanisms, their companies, reviewers and about thirty cases,
each taken through the real services so that its log is a plausible history.

`data.toml` beside this file holds the content (fictional companies and people). The
cases of `sms_case` are filed through the SMS dialogue itself (`intake.sms`), from fake
numbers: what the dialogue and the reviewers send them is marked sent without leaving
the system (`intake.sms.simulator.TerminalGateway`, silent). The loader is idempotent:
when the first mechanism exists it changes nothing. It commits as it goes once the first
text message is read (the SMS worker's functions are jobs), so a failure part-way leaves
a half-loaded demo: start again from an empty database.
"""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from grievance.clock import FixedClock
from grievance.crypto.secrets import hash_password
from grievance.demo.accounts import enrol_demo_accounts
from grievance.models import (
    Anonymity,
    AssignmentRole,
    Case,
    Channel,
    Company,
    CompanyKind,
    ComplainantKind,
    ComplainantResponse,
    Conflict,
    ContactChannel,
    InvolvementKind,
    Mechanism,
    MechanismPolicy,
    RemedyAction,
    RemedyStatus,
    ReprisalRisk,
    ReviewerProfile,
    Role,
    Site,
    Stage,
    User,
)
from grievance.services import cases, contacts, involvement, lifecycle, messages, remedy
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context
from grievance.services.filing import ComplainantDetails, Filing, file_case
from grievance.services.remedy import Satisfaction

DATA_FILE = Path(__file__).with_name("data.toml")
#: Printed by `make run`; for the demo data only.
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed for the demo accounts only

#: The stages a demo case passes through to reach its target.
PATHS: dict[Stage, list[Stage]] = {
    Stage.RECEIVED: [],
    Stage.ACKNOWLEDGED: [Stage.ACKNOWLEDGED],
    Stage.ADMISSIBILITY: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY],
    Stage.DIALOGUE: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.DIALOGUE],
    Stage.INVESTIGATION: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.INVESTIGATION],
    Stage.FINDINGS: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.INVESTIGATION, Stage.FINDINGS],
    Stage.INADMISSIBLE: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.INADMISSIBLE],
    Stage.REFERRED: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.REFERRED],
    Stage.WITHDRAWN: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.WITHDRAWN],
    Stage.APPEAL: [Stage.ACKNOWLEDGED, Stage.ADMISSIBILITY, Stage.INADMISSIBLE, Stage.APPEAL],
}
_REMEDY_PATH = [
    Stage.ACKNOWLEDGED,
    Stage.ADMISSIBILITY,
    Stage.INVESTIGATION,
    Stage.FINDINGS,
    Stage.REMEDY_PLAN,
    Stage.REMEDY_IMPLEMENTATION,
    Stage.REMEDY_VERIFICATION,
    Stage.CLOSED,
]
for _index, _stage in enumerate(_REMEDY_PATH[4:], start=5):
    PATHS[_stage] = _REMEDY_PATH[:_index]


def _step_times(received: datetime, end: datetime, steps: int, number: int) -> list[datetime]:
    """When each step of a demo case happens: acknowledged within days, admissibility
    decided within about two months, the rest spread evenly until today."""
    early = [
        timedelta(days=1 + number % 4),
        timedelta(days=6 + number % 5),
        timedelta(days=25 + (number * 7) % 50),
    ]
    times = [min(received + offset, end) for offset in early[:steps]]
    rest = steps - len(times)
    if rest:
        start = times[-1]
        times += [start + (end - start) * (index + 1) / (rest + 1) for index in range(rest)]
    return times


@dataclass
class Report:
    created: bool
    logins: list[tuple[str, str]]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in self.counts.items())


def read_data(path: Path = DATA_FILE) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def demo_logins(data: dict[str, Any]) -> list[tuple[str, str]]:
    staff = [(entry["role"], entry["email"]) for entry in data["staff"]]
    reviewers = [("reviewer", entry["email"]) for entry in data["reviewer"]]
    return sorted(staff) + reviewers


def load_demo(ctx: Context, path: Path = DATA_FILE) -> Report:
    data = read_data(path)
    logins = demo_logins(data)
    first = data["mechanism"][0]["code"]
    if ctx.session.scalar(select(Mechanism).where(Mechanism.code == first)) is not None:
        return Report(created=False, logins=logins)
    loader = _Loader(ctx, data)
    loader.run()
    enrol_demo_accounts(ctx, data)  # the second factor of the demo accounts
    return Report(created=True, logins=logins, counts=loader.counts)


class _Loader:
    def __init__(self, ctx: Context, data: dict[str, Any]) -> None:
        self.ctx = ctx
        self.data = data
        self.today = ctx.now()
        self.mechanisms: dict[str, Mechanism] = {}
        self.companies: dict[str, Company] = {}
        self.sites: dict[str, Site] = {}
        self.reviewers: dict[str, User] = {}
        self.counts: dict[str, int] = {}
        #: The fake phone numbers of the demo complainants.
        self.phones: set[str] = set()

    def run(self) -> None:
        self._mechanisms()
        self._companies()
        self._people()
        ordered = sorted(self.data["case"], key=lambda entry: -entry["received_days_ago"])
        texted = self.data.get("sms_case", [])
        # In the order they came, so that references follow it; the cases of `case` keep
        # their numbers (their times and phone numbers derive from them).
        timeline = sorted(
            [(-entry["received_days_ago"], 0, entry) for entry in texted]
            + [
                (-entry["received_days_ago"], number, entry)
                for number, entry in enumerate(ordered, 1)
            ],
            key=lambda item: item[:2],
        )
        for _days, number, entry in timeline:
            if number:
                self._case(number, entry)
            else:
                self._sms_case(entry)
        self._deliver_texts()
        self.counts = {
            "mechanisms": len(self.mechanisms),
            "companies": len(self.companies),
            "sites": len(self.sites),
            "reviewers": len(self.reviewers),
            "staff users": len(self.data["staff"]),
            "cases": len(ordered) + len(texted),
            "of them by text message": len(texted),
        }

    # -- reference data ---------------------------------------------------------------
    def _mechanisms(self) -> None:
        for entry in self.data["mechanism"]:
            mechanism = Mechanism(
                code=entry["code"],
                name=entry["name"],
                sector=entry["sector"],
                publishes_cases=entry.get("publishes_cases", True),
                created_at=self.today - timedelta(days=500),
            )
            self.ctx.session.add(mechanism)
            self.ctx.session.flush()
            self.ctx.session.add(
                MechanismPolicy(
                    mechanism_id=mechanism.id,
                    version=1,
                    overrides={"languages": entry["languages"]},
                    note="Languages offered by the covenant.",
                    created_at=mechanism.created_at,
                )
            )
            self.mechanisms[mechanism.code] = mechanism
        self.ctx.session.flush()

    def _companies(self) -> None:
        for entry in self.data["company"]:
            company = Company(
                name=entry["name"],
                kind=CompanyKind(entry["kind"]),
                country=entry["country"],
                created_at=self.today - timedelta(days=480),
                mechanisms=[self.mechanisms[code] for code in entry.get("mechanisms", [])],
            )
            self.ctx.session.add(company)
            self.companies[entry["key"]] = company
            for site_entry in entry.get("site", []):
                site = Site(
                    company=company,
                    name=site_entry["name"],
                    kind=site_entry["kind"],
                    country=site_entry["country"],
                    region=site_entry.get("region", ""),
                )
                self.ctx.session.add(site)
                self.sites[site_entry["key"]] = site
        for entry in self.data["company"]:
            supplier = self.companies[entry["key"]]
            supplier.buyers = [self.companies[key] for key in entry.get("buyers", [])]
        self.ctx.session.flush()

    def _user(self, email: str, name: str, role: Role, **extra: Any) -> User:
        user = User(
            email=email,
            display_name=name,
            role=role,
            password_hash=hash_password(DEMO_PASSWORD, self.ctx.kdf),
            created_at=self.today - timedelta(days=450),
            **extra,
        )
        self.ctx.session.add(user)
        return user

    def _people(self) -> None:
        for entry in self.data["reviewer"]:
            user = self._user(entry["email"], entry["name"], Role.REVIEWER)
            self.ctx.session.flush()
            self.ctx.session.add(
                ReviewerProfile(
                    user_id=user.id,
                    languages=entry["languages"],
                    themes=entry["themes"],
                    countries=entry["countries"],
                    capacity=entry["capacity"],
                )
            )
            self.ctx.session.flush()
            for conflict in entry.get("conflicts", []):
                self.ctx.session.add(
                    Conflict(
                        reviewer_id=user.id,
                        company_id=self.companies[conflict["company"]].id
                        if "company" in conflict
                        else None,
                        site_id=self.sites[conflict["site"]].id if "site" in conflict else None,
                        reason=conflict["reason"],
                        declared_on=date.fromisoformat(conflict["declared_on"]),
                    )
                )
            self.reviewers[entry["key"]] = user
        for entry in self.data["staff"]:
            role = Role(entry["role"])
            self._user(
                entry["email"],
                entry["name"],
                role,
                company=self.companies[entry["company"]] if role is Role.COMPANY else None,
                mechanisms=[self.mechanisms[code] for code in entry.get("mechanisms", [])],
            )
        self.ctx.session.flush()

    # -- cases ------------------------------------------------------------------------
    def _case(self, number: int, entry: dict[str, Any]) -> None:
        received = (self.today - timedelta(days=entry["received_days_ago"])).replace(
            hour=6 + number % 10, minute=(number * 7) % 60, second=0, microsecond=0
        )
        clock = FixedClock(received)
        ctx = replace(self.ctx, clock=clock)
        channel = Channel(entry["channel"])
        anonymity = Anonymity(entry["anonymity"])
        contact = ContactChannel.NONE
        address = ""
        if channel in (Channel.SMS, Channel.WHATSAPP):
            contact = ContactChannel(channel.value)
            address = f"+88017000{number:05d}"
            self.phones.add(address)
        person = ComplainantDetails(
            anonymity=anonymity,
            kind=ComplainantKind(entry["complainant_kind"]),
            contact_channel=contact,
            contact_address=address,
            name="" if anonymity is Anonymity.ANONYMOUS else f"Demo complainant {number}",
            represents=entry.get("represents", ""),
            consents={
                "share_identity_with_company": anonymity is Anonymity.OPEN,
                "publish_summary": number % 3 != 0,
            },
        )
        site = self.sites.get(entry.get("site", ""))
        filed = file_case(
            ctx,
            Filing(
                mechanism=self.mechanisms[entry["mechanism"]],
                channel=channel,
                language=entry["language"],
                statement=entry["statement"],
                complainant=person,
                themes=entry["themes"],
                country=entry["country"],
                site_id=site.id if site else None,
                urgent=entry.get("urgent", False),
            ),
            SYSTEM,
        )
        case = filed.case
        complainant_actor = Actor.for_complainant(filed.complainant)

        clock.advance(minutes=40)
        for company_entry in entry.get("companies", []):
            involvement.add_company(ctx, case, self.companies[company_entry["company"]], SYSTEM)
        clock.advance(minutes=20)
        # Routing chose the reviewers at filing (and again if a company added since is one
        # a reviewer declared a conflict with).
        assigned = cases.active_assignments(ctx, case)
        lead_actor = Actor.for_user(assigned[AssignmentRole.LEAD].reviewer)
        second_actor = Actor.for_user(assigned[AssignmentRole.SECOND].reviewer)

        target = Stage(entry["stage"])
        path = PATHS[target]
        if target is Stage.CLOSED and not entry.get("remedies"):
            path = [*PATHS[Stage.FINDINGS], Stage.CLOSED]
        end = self.today - timedelta(hours=6)
        step_times = _step_times(received, end, len(path), number)
        timeline: list[tuple[datetime, int, Callable[[], None]]] = []

        def add(when: datetime, action: Callable[[], None]) -> None:
            timeline.append((max(when, clock.now()), len(timeline), action))

        reason = entry.get("outcome_reason", "") or "Assessed against the covenant's criteria."
        for stage, when in zip(path, step_times, strict=True):
            add(
                when,
                self._step(ctx, case, stage, lead_actor, second_actor, complainant_actor, reason),
            )
            if stage is Stage.ACKNOWLEDGED:
                add(when + timedelta(hours=2), self._assess(ctx, case, entry, lead_actor))
            if stage in (Stage.INVESTIGATION, Stage.DIALOGUE):
                add(when + timedelta(days=3), self._classify(ctx, case, entry, lead_actor))
            if stage is Stage.REMEDY_PLAN:
                add(when + timedelta(days=5), self._plan(ctx, case, entry, lead_actor))
            responses = {item.get("complainant_response") for item in entry.get("remedies", [])}
            if stage is Stage.CLOSED and responses & {"confirmed", "disputed"}:
                answer = Satisfaction.NO if "disputed" in responses else Satisfaction.YES
                if when + timedelta(days=14) < end:
                    add(
                        when + timedelta(days=14),
                        self._satisfaction(ctx, case, complainant_actor, answer),
                    )
            if stage is Stage.REMEDY_VERIFICATION:
                add(
                    when + timedelta(days=2),
                    self._verify(ctx, case, entry, lead_actor, complainant_actor),
                )
        for message in entry.get("messages", []):
            when = received + timedelta(days=message["days_after"], hours=3)
            if message["sender"] == "reviewer":
                add(when, self._message(ctx, case, lead_actor, message["text"], channel))
            else:
                add(when, self._message(ctx, case, complainant_actor, message["text"], channel))
        for when, _order, action in sorted(timeline, key=lambda item: item[:2]):
            clock.set(min(when, end))
            action()

    def _sms_case(self, entry: dict[str, Any]) -> None:
        """A case filed by text message, through the dialogue, as the worker files it."""
        from intake.sms.conversations import SmsSettings, process_inbound, record_inbound

        hour, minute = map(int, entry["time"].split(":"))
        received = (self.today - timedelta(days=entry["received_days_ago"])).replace(
            hour=hour, minute=minute, second=0, microsecond=0
        )
        clock = FixedClock(received)
        ctx = replace(self.ctx, clock=clock)
        sms = SmsSettings(mechanism_code=entry["mechanism"])
        number = entry["number"]
        self.phones.add(number)
        channel = Channel(entry["channel"])
        sender = f"whatsapp:{number}" if channel is Channel.WHATSAPP else number
        handle = contacts.phone_handle(ctx, number)

        def text(body: str) -> list[str]:
            record_inbound(
                ctx,
                provider_sid="DEMO" + secrets.token_hex(16),
                sender=sender,
                to=f"demo-{entry['mechanism']}",
                body=body,
            )
            return process_inbound(ctx, sms, handles=[handle]).filed or []

        filed: list[str] = []
        for body in entry["messages"]:
            clock.advance(minutes=2)
            filed += text(body)
        if len(filed) != 1:
            raise RuntimeError(f"demo conversation {entry['key']} filed {len(filed)} cases")
        case = ctx.session.scalars(select(Case).where(Case.reference == filed[0])).one()
        assert case.channel is channel, (case.reference, case.channel)
        complainant_actor = Actor.for_complainant(case.complainants[0])

        clock.advance(hours=14)  # the next morning, a reviewer reads it
        lead = Actor.for_user(cases.active_assignments(ctx, case)[AssignmentRole.LEAD].reviewer)
        for key in entry.get("companies", []):
            involvement.add_company(ctx, case, self.companies[key], lead)
        assigned = cases.active_assignments(ctx, case)  # a conflict may have changed them
        lead = Actor.for_user(assigned[AssignmentRole.LEAD].reviewer)
        second = Actor.for_user(assigned[AssignmentRole.SECOND].reviewer)
        timeline: list[tuple[datetime, int, Callable[[], None]]] = []
        for day, stage in enumerate(PATHS[Stage(entry.get("stage", "received"))], start=1):
            when = received + timedelta(days=day, hours=1)
            reason = "Assessed against the covenant's criteria."
            step = self._step(ctx, case, stage, lead, second, complainant_actor, reason)
            timeline.append((when, len(timeline), step))
        for item in entry.get("follow_up", []):
            when = received + timedelta(days=item["days_after"])
            if item["sender"] == "reviewer":
                action = self._message(ctx, case, lead, item["text"], channel)
            else:
                action = partial(self._text_after, text, item["text"])
            timeline.append((when, len(timeline), action))
        end = self.today - timedelta(hours=6)
        for when, _order, action in sorted(timeline, key=lambda item: item[:2]):
            clock.set(max(min(when, end), clock.now()))
            action()

    @staticmethod
    def _text_after(text: Callable[[str], list[str]], body: str) -> None:
        """The complainant texts again: the dialogue adds it to the case."""
        text(body)

    def _deliver_texts(self) -> None:
        """Mark sent what waits for the demo's fake numbers: no text ever goes to them."""
        from grievance.services import outbox
        from intake.sms.simulator import TerminalGateway

        silent = TerminalGateway()
        for number in sorted(self.phones):
            handle = contacts.phone_handle(self.ctx, number)
            while outbox.drain(self.ctx, silent, handle=handle).sent:
                pass

    def _step(
        self,
        ctx: Context,
        case: Case,
        stage: Stage,
        lead: Actor,
        second: Actor,
        complainant: Actor,
        reason: str,
    ) -> Callable[[], None]:
        def run() -> None:
            move = lifecycle.find(case.stage, stage)
            assert move is not None, (case.reference, case.stage, stage)
            if move.four_eyes:
                proposal = cases.propose_decision(ctx, case, stage, lead, reason)
                ctx.clock.advance(hours=20)  # type: ignore[attr-defined]
                cases.confirm_decision(ctx, proposal, second)
            elif Role.COMPLAINANT in move.roles and Role.REVIEWER not in move.roles:
                cases.transition(ctx, case, stage, complainant, "I do not agree with the decision.")
            elif stage is Stage.WITHDRAWN:
                cases.transition(ctx, case, stage, complainant, reason)
            else:
                cases.transition(ctx, case, stage, lead, reason if move.needs_reason else "")

        return run

    def _assess(
        self, ctx: Context, case: Case, entry: dict[str, Any], lead: Actor
    ) -> Callable[[], None]:
        def run() -> None:
            if "reprisal_risk" in entry:
                cases.assess_reprisal_risk(ctx, case, lead, ReprisalRisk(entry["reprisal_risk"]))
            if "severity" in entry:
                cases.assess_severity(ctx, case, lead, **entry["severity"])

        return run

    def _classify(
        self, ctx: Context, case: Case, entry: dict[str, Any], lead: Actor
    ) -> Callable[[], None]:
        def run() -> None:
            for company_entry in entry.get("companies", []):
                if company_entry.get("involvement"):
                    involvement.classify_involvement(
                        ctx,
                        case,
                        self.companies[company_entry["company"]],
                        InvolvementKind(company_entry["involvement"]),
                        lead,
                        company_entry.get("rationale") or "Classified on the evidence gathered.",
                    )

        return run

    def _plan(
        self, ctx: Context, case: Case, entry: dict[str, Any], lead: Actor
    ) -> Callable[[], None]:
        def run() -> None:
            for item in entry.get("remedies", []):
                remedy.record_remedy_action(
                    ctx,
                    case,
                    lead,
                    remedy_type=item["type"],
                    description=item["description"],
                    company=self.companies.get(item.get("company", "")),
                    due_on=(ctx.now() + timedelta(days=60)).date(),
                    agreed_with_complainant=True,
                )

        return run

    def _verify(
        self, ctx: Context, case: Case, entry: dict[str, Any], lead: Actor, complainant: Actor
    ) -> Callable[[], None]:
        def run() -> None:
            actions = ctx.session.scalars(
                select(RemedyAction)
                .where(RemedyAction.case_id == case.id)
                .order_by(RemedyAction.id)
            ).all()
            for action, item in zip(actions, entry.get("remedies", []), strict=False):
                status = RemedyStatus(item.get("status", "completed"))
                if status is not RemedyStatus.PLANNED:
                    remedy.update_remedy_status(ctx, action, lead, status)
                if item.get("complainant_response"):
                    remedy.respond_to_remedy(
                        ctx, action, complainant, ComplainantResponse(item["complainant_response"])
                    )

        return run

    def _satisfaction(
        self, ctx: Context, case: Case, complainant: Actor, answer: Satisfaction
    ) -> Callable[[], None]:
        def run() -> None:
            remedy.record_satisfaction(ctx, case, complainant, answer)

        return run

    def _message(
        self, ctx: Context, case: Case, actor: Actor, text: str, channel: Channel
    ) -> Callable[[], None]:
        def run() -> None:
            complainant = case.complainants[0]
            messages.add_message(ctx, case, actor, text, channel, complainant)

        return run
