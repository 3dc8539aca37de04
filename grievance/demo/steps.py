"""The demo's steps: each a service call to make at its time on a case's timeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from grievance.models import (
    Case,
    Channel,
    Company,
    ComplainantResponse,
    InvolvementKind,
    RemedyAction,
    RemedyStatus,
    ReprisalRisk,
    Role,
    Stage,
)
from grievance.services import cases, involvement, lifecycle, messages, remedy
from grievance.services.actors import Actor
from grievance.services.context import Context
from grievance.services.remedy import Satisfaction


def step(
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
            # the demo's reviewers write their reasons in English, and say so
            proposal = cases.propose_decision(ctx, case, stage, lead, reason, reason_language="en")
            ctx.clock.advance(hours=20)  # type: ignore[attr-defined]
            cases.confirm_decision(ctx, proposal, second)
        elif Role.COMPLAINANT in move.roles and Role.REVIEWER not in move.roles:
            cases.transition(ctx, case, stage, complainant, "I do not agree with the decision.")
        elif stage is Stage.WITHDRAWN:
            cases.transition(ctx, case, stage, complainant, reason)
        else:
            written = reason if move.needs_reason else ""
            cases.transition(ctx, case, stage, lead, written, reason_language="en")

    return run


def assess(ctx: Context, case: Case, entry: dict[str, Any], lead: Actor) -> Callable[[], None]:
    def run() -> None:
        if "reprisal_risk" in entry:
            cases.assess_reprisal_risk(ctx, case, lead, ReprisalRisk(entry["reprisal_risk"]))
        if "severity" in entry:
            cases.assess_severity(ctx, case, lead, **entry["severity"])

    return run


def classify(
    ctx: Context, case: Case, entry: dict[str, Any], lead: Actor, companies: Mapping[str, Company]
) -> Callable[[], None]:
    def run() -> None:
        for company_entry in entry.get("companies", []):
            if company_entry.get("involvement"):
                involvement.classify_involvement(
                    ctx,
                    case,
                    companies[company_entry["company"]],
                    InvolvementKind(company_entry["involvement"]),
                    lead,
                    company_entry.get("rationale") or "Classified on the evidence gathered.",
                )

    return run


def plan(
    ctx: Context, case: Case, entry: dict[str, Any], lead: Actor, companies: Mapping[str, Company]
) -> Callable[[], None]:
    def run() -> None:
        for item in entry.get("remedies", []):
            remedy.record_remedy_action(
                ctx,
                case,
                lead,
                remedy_type=item["type"],
                description=item["description"],
                company=companies.get(item.get("company", "")),
                due_on=(ctx.now() + timedelta(days=60)).date(),
                agreed_with_complainant=True,
            )

    return run


def verify(
    ctx: Context, case: Case, entry: dict[str, Any], lead: Actor, complainant: Actor
) -> Callable[[], None]:
    def run() -> None:
        actions = ctx.session.scalars(
            select(RemedyAction).where(RemedyAction.case_id == case.id).order_by(RemedyAction.id)
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


def satisfaction(
    ctx: Context, case: Case, complainant: Actor, answer: Satisfaction
) -> Callable[[], None]:
    def run() -> None:
        remedy.record_satisfaction(ctx, case, complainant, answer)

    return run


def message(
    ctx: Context, case: Case, actor: Actor, text: str, channel: Channel
) -> Callable[[], None]:
    def run() -> None:
        complainant = case.complainants[0]
        messages.add_message(ctx, case, actor, text, channel, complainant)

    return run
