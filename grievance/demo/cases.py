"""The demo's cases, each taken through the real services along a timeline: filed (on
the web form's terms, or by text message through the SMS dialogue), its companies added,
moved along its path by its reviewers, assessed, classified, remedied, messaged."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from grievance.clock import FixedClock
from grievance.demo import remedy_steps, steps
from grievance.demo.reference import Cast
from grievance.models import (
    Anonymity,
    AssignmentRole,
    Case,
    Channel,
    ComplainantKind,
    ContactChannel,
    Stage,
)
from grievance.services import cases, contacts, involvement
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context
from grievance.services.filing import ComplainantDetails, Filing, file_case
from grievance.services.remedy import Satisfaction

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


def _step_times(received: datetime, end: datetime, count: int, number: int) -> list[datetime]:
    """When each step of a demo case happens: acknowledged within days, admissibility
    decided within about two months, the rest spread evenly until today."""
    early = [
        timedelta(days=1 + number % 4),
        timedelta(days=6 + number % 5),
        timedelta(days=25 + (number * 7) % 50),
    ]
    times = [min(received + offset, end) for offset in early[:count]]
    rest = count - len(times)
    if rest:
        start = times[-1]
        times += [start + (end - start) * (index + 1) / (rest + 1) for index in range(rest)]
    return times


class CaseLoader:
    def __init__(self, ctx: Context, cast: Cast) -> None:
        self.ctx = ctx
        self.today = ctx.now()
        self.cast = cast
        #: The fake phone numbers of the demo complainants.
        self.phones: set[str] = set()

    def case(self, number: int, entry: dict[str, Any]) -> None:
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
        site = self.cast.sites.get(entry.get("site", ""))
        filed = file_case(
            ctx,
            Filing(
                mechanism=self.cast.mechanisms[entry["mechanism"]],
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
            involvement.add_company(
                ctx, case, self.cast.companies[company_entry["company"]], SYSTEM
            )
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
        # the reasons in the complainant's language, attached for them (#15, item 4)
        translated = (
            entry.get("outcome_reason_translation", "") if "outcome_reason" in entry else ""
        )
        for stage, when in zip(path, step_times, strict=True):
            add(
                when,
                steps.step(
                    ctx,
                    case,
                    stage,
                    lead_actor,
                    second_actor,
                    complainant_actor,
                    reason,
                    translated,
                ),
            )
            if stage is Stage.ACKNOWLEDGED:
                add(
                    when + timedelta(hours=2),
                    steps.assess(ctx, case, entry, lead_actor, second_actor),
                )
            if stage in (Stage.INVESTIGATION, Stage.DIALOGUE):
                add(
                    when + timedelta(days=3),
                    steps.classify(ctx, case, entry, lead_actor, second_actor, self.cast.companies),
                )
                if entry.get("company_side"):
                    add(
                        when + timedelta(days=8),
                        steps.company_side(ctx, case, entry, lead_actor, self.cast.companies),
                    )
            if stage is Stage.REMEDY_PLAN:
                add(
                    when + timedelta(hours=1),
                    remedy_steps.draft(ctx, case, entry, lead_actor, self.cast.companies),
                )
            if stage is Stage.REMEDY_IMPLEMENTATION:
                add(
                    when + timedelta(hours=2),
                    remedy_steps.report(ctx, case, entry, self.cast.companies),
                )
            responses = {item.get("complainant_response") for item in entry.get("remedies", [])}
            if stage is Stage.CLOSED and responses & {"confirmed", "disputed"}:
                answer = Satisfaction.NO if "disputed" in responses else Satisfaction.YES
                if when + timedelta(days=14) < end:
                    add(
                        when + timedelta(days=14),
                        steps.satisfaction(ctx, case, complainant_actor, answer),
                    )
            if stage is Stage.REMEDY_VERIFICATION:
                add(when + timedelta(days=2), remedy_steps.verify(ctx, case, lead_actor))
        for message in entry.get("messages", []):
            when = received + timedelta(days=message["days_after"], hours=3)
            if message["sender"] == "reviewer":
                add(when, steps.message(ctx, case, lead_actor, message["text"], channel))
            else:
                add(when, steps.message(ctx, case, complainant_actor, message["text"], channel))
        for when, _order, action in sorted(timeline, key=lambda item: item[:2]):
            clock.set(min(when, end))
            action()

    def sms_case(self, entry: dict[str, Any]) -> None:
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
            involvement.add_company(ctx, case, self.cast.companies[key], lead)
        assigned = cases.active_assignments(ctx, case)  # a conflict may have changed them
        lead = Actor.for_user(assigned[AssignmentRole.LEAD].reviewer)
        second = Actor.for_user(assigned[AssignmentRole.SECOND].reviewer)
        timeline: list[tuple[datetime, int, Callable[[], None]]] = []
        for day, stage in enumerate(PATHS[Stage(entry.get("stage", "received"))], start=1):
            when = received + timedelta(days=day, hours=1)
            reason = "Assessed against the covenant's criteria."
            step = steps.step(ctx, case, stage, lead, second, complainant_actor, reason)
            timeline.append((when, len(timeline), step))
        for item in entry.get("follow_up", []):
            when = received + timedelta(days=item["days_after"])
            if item["sender"] == "reviewer":
                action = steps.message(ctx, case, lead, item["text"], channel)
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

    def deliver_texts(self) -> None:
        """Mark sent what waits for the demo's fake numbers: no text ever goes to them."""
        from grievance.services import outbox
        from intake.sms.simulator import TerminalGateway

        silent = TerminalGateway()
        for number in sorted(self.phones):
            handle = contacts.phone_handle(self.ctx, number)
            while outbox.drain(self.ctx, silent, handle=handle).sent:
                pass
