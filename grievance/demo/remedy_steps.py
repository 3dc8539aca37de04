"""The demo's remedy plans, through the services, in every state (issue #13, item 9):
drafted by the reviewers and proposed by companies, put to the complainant (asked and
waiting, or the complainant wants to talk), approved by two reviewers on the
complainant's agreement (on their own channel: SMS cases by SMS), reported on by the
companies, verified by a reviewer, confirmed or disputed by the complainant."""

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
    ConsultationAnswer,
    RemedyAction,
    RemedyStatus,
    Role,
    User,
)
from grievance.services import remedy_delivery, remedy_plan
from grievance.services.actors import Actor
from grievance.services.context import Context


def answer_channel(case: Case) -> str:
    return "sms" if case.channel is Channel.SMS else "web"


def company_actor(ctx: Context, company: Company) -> Actor:
    """The demo user of the company (README: one for each company with remedy items)."""
    user = ctx.session.scalars(
        select(User)
        .where(User.company_id == company.id, User.role == Role.COMPANY)
        .order_by(User.id)
        .limit(1)
    ).one()
    return Actor.for_user(user)


def draft(
    ctx: Context, case: Case, entry: dict[str, Any], lead: Actor, companies: Mapping[str, Company]
) -> Callable[[], None]:
    def run() -> None:
        for item in entry.get("remedies", []):
            company = companies.get(item.get("company", ""))
            data = remedy_plan.ItemInput(
                remedy_type=item["type"],
                description=item["description"],
                company_id=company.id if company else None,
                share_percent=item.get("share"),
                beneficiary_count=item.get("beneficiary_count"),
                beneficiaries=item.get("beneficiaries", ""),
                due_on=(ctx.now() + timedelta(days=item.get("due_days", 60))).date(),
            )
            if item.get("status") == "proposed" and company is not None:
                remedy_plan.propose_item(ctx, case, company_actor(ctx, company), data)
            else:
                remedy_plan.draft_item(ctx, case, lead, data)
        consultation = entry.get("consultation")
        if consultation:
            remedy_plan.put_to_complainant(ctx, case, lead)
        if consultation == "talk":
            complainant = Actor.for_complainant(case.complainants[0])
            remedy_plan.answer(
                ctx, case, complainant, ConsultationAnswer.TALK, answer_channel(case)
            )

    return run


def approve(ctx: Context, case: Case, lead: Actor, second: Actor) -> None:
    """The complainant agrees on their channel; one reviewer proposes, the other confirms
    (the case moves into implementation)."""
    remedy_plan.put_to_complainant(ctx, case, lead)
    complainant = Actor.for_complainant(case.complainants[0])
    remedy_plan.answer(ctx, case, complainant, ConsultationAnswer.AGREE, answer_channel(case))
    remedy_plan.propose_approval(ctx, case, lead, "The complainant agreed to the plan.")
    ctx.clock.advance(hours=20)  # type: ignore[attr-defined]
    remedy_plan.confirm_approval(ctx, case, second)


def _items(ctx: Context, case: Case) -> list[RemedyAction]:
    return [
        item
        for item in remedy_plan.items_of(ctx, case)
        if item.status not in (RemedyStatus.DECLINED, RemedyStatus.PROPOSED)
    ]


def report(
    ctx: Context, case: Case, entry: dict[str, Any], companies: Mapping[str, Company]
) -> Callable[[], None]:
    """The companies report as the entry says; the complainant answers on items done."""

    def run() -> None:
        complainant = Actor.for_complainant(case.complainants[0])
        for item, given in zip(_items(ctx, case), entry.get("remedies", []), strict=False):
            status = given.get("status", "completed")
            if status not in ("in_progress", "completed") or item.company is None:
                continue
            remedy_delivery.report_progress(
                ctx,
                item,
                company_actor(ctx, item.company),
                given.get("report", "Carried out as agreed; records kept for the reviewers."),
                completed=status == "completed",
            )
            if given.get("complainant_response"):
                response = ComplainantResponse(given["complainant_response"])
                remedy_delivery.respond(ctx, item, complainant, response, answer_channel(case))

    return run


def verify(ctx: Context, case: Case, reviewer: Actor) -> Callable[[], None]:
    def run() -> None:
        for item in _items(ctx, case):
            if item.status is RemedyStatus.COMPLETED and item.verified_at is None:
                remedy_delivery.verify(ctx, item, reviewer, "Checked on a visit and in records.")

    return run
