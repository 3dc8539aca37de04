"""The demo's steps: each a service call to make at its time on a case's timeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from grievance.demo import remedy_steps
from grievance.models import (
    Case,
    CaseEvent,
    Channel,
    Company,
    InvolvementKind,
    Leverage,
    ReprisalRisk,
    Role,
    Stage,
    User,
)
from grievance.services import (
    cases,
    hearing,
    involvement,
    lifecycle,
    messages,
    obligations,
    public_summary,
    remedy,
    translations,
)
from grievance.services.actors import Actor
from grievance.services.context import Context
from grievance.services.remedy import Satisfaction

#: What the demo's lead logs of hearing a complainant who did not write (R08).
HEARD_NOTE = (
    "Called the complainant in their language to go over the facts found: they "
    "confirmed them and added details."
)


def step(
    ctx: Context,
    case: Case,
    stage: Stage,
    lead: Actor,
    second: Actor,
    complainant: Actor,
    reason: str,
    translation: str = "",
) -> Callable[[], None]:
    """`translation`: the reasons in the complainant's language, attached for them."""

    def run() -> None:
        move = lifecycle.find(case.stage, stage)
        assert move is not None, (case.reference, case.stage, stage)
        if move.hears_complainant and not hearing.heard(ctx, case):
            # R08: the complainant did not write during the investigation; the lead
            # called them before it ends, and logs it
            hearing.record_hearing(ctx, case, lead, heard=True, note=HEARD_NOTE)
            ctx.clock.advance(hours=1)  # type: ignore[attr-defined]
        if stage is Stage.REMEDY_IMPLEMENTATION:
            remedy_steps.approve(ctx, case, lead, second)
        elif move.four_eyes:
            if stage is Stage.CLOSED:  # nothing of the plan left unverified
                remedy_steps.verify(ctx, case, second)()
            # the demo's reviewers write their reasons in English, and say so
            proposal = cases.propose_decision(ctx, case, stage, lead, reason, reason_language="en")
            ctx.clock.advance(hours=20)  # type: ignore[attr-defined]
            cases.confirm_decision(ctx, proposal, second)
            _translate_reasons(ctx, case, lead, translation)
        elif Role.COMPLAINANT in move.roles and Role.REVIEWER not in move.roles:
            cases.transition(ctx, case, stage, complainant, "I do not agree with the decision.")
        elif stage is Stage.WITHDRAWN:
            cases.transition(ctx, case, stage, complainant, reason)
        else:
            written = reason if move.needs_reason else ""
            cases.transition(ctx, case, stage, lead, written, reason_language="en")
            _translate_reasons(ctx, case, lead, translation)

    return run


def _translate_reasons(ctx: Context, case: Case, lead: Actor, translation: str) -> None:
    """The lead attaches the translation of the reasons just given, if the demo has one
    (#15, item 4: the other cases' English reasons are left for the reviewers' warning)."""
    if not translation or case.language == "en":
        return
    event = ctx.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == "stage_changed")
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    if event is not None and translations.reasons_given(case, event):
        translations.add_translation(ctx, case, lead, case.language, translation, reasons_of=event)


def assess(
    ctx: Context, case: Case, entry: dict[str, Any], lead: Actor, second: Actor
) -> Callable[[], None]:
    def run() -> None:
        if "reprisal_risk" in entry:
            risk = ReprisalRisk(entry["reprisal_risk"])
            cases.assess_reprisal_risk(ctx, case, lead, risk)
            if risk is not ReprisalRisk.HIGH:
                # the registry's summary: the reviewers' words, never the complainant's
                public_summary.propose(ctx, case, lead, summary_of(case, entry), "en")
                public_summary.approve(ctx, case, second)
        if "severity" in entry:
            cases.assess_severity(ctx, case, lead, **entry["severity"])

    return run


def classify(
    ctx: Context,
    case: Case,
    entry: dict[str, Any],
    lead: Actor,
    second: Actor,
    companies: Mapping[str, Company],
) -> Callable[[], None]:
    """The lead proposes each company's involvement and the second confirms it (four
    eyes); a linked company holds leverage unless the entry says otherwise."""

    def run() -> None:
        for company_entry in entry.get("companies", []):
            if company_entry.get("involvement"):
                kind = InvolvementKind(company_entry["involvement"])
                default = Leverage.HELD if kind is InvolvementKind.LINKED else Leverage.UNKNOWN
                proposal = involvement.propose_involvement(
                    ctx,
                    case,
                    companies[company_entry["company"]],
                    kind,
                    Leverage(company_entry.get("leverage", default.value)),
                    lead,
                    company_entry.get("rationale") or "Classified on the evidence gathered.",
                )
                involvement.confirm_involvement(ctx, proposal, second)

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


def company_side(
    ctx: Context,
    case: Case,
    entry: dict[str, Any],
    lead: Actor,
    companies: Mapping[str, Company],
) -> Callable[[], None]:
    """What each company of the case did (#13): its response, its answer to its
    classification, its reports on its obligations, and the lead reviewer's verification
    of each (accepted, sent back with a note, or left waiting)."""

    def run() -> None:
        for side in entry.get("company_side", []):
            company = companies[side["company"]]
            user = ctx.session.scalar(
                select(User).where(User.company_id == company.id).order_by(User.id).limit(1)
            )
            if user is None:
                continue
            staff = Actor.for_user(user)
            if side.get("respond"):
                obligations.respond(ctx, case, staff, side["respond"])
            if side.get("answer"):
                accepted = side["answer"] == "accept"
                obligations.answer_classification(
                    ctx, case, staff, accepted, side.get("answer_reasons", "")
                )
            owed = {o.code: o for o in obligations.obligations_of(ctx, case, company.id)}
            for report in side.get("reports", []):
                obligation = owed[report["code"]]
                obligations.report_obligation(
                    ctx, obligation, staff, report["fulfilled"], report["reasons"]
                )
                if report.get("verify") == "accept":
                    obligations.verify_obligation(ctx, obligation, lead, True)
                elif report.get("verify") == "back":
                    obligations.verify_obligation(ctx, obligation, lead, False, report["note"])

    return run


def summary_of(case: Case, entry: dict[str, Any]) -> str:
    """The demo case's public summary: its own (`public_summary` in data.toml), else one
    made of its public facts."""
    if entry.get("public_summary"):
        return str(entry["public_summary"])
    themes = ", ".join(theme.replace("_", " ") for theme in case.theme_codes) or "labour rights"
    return (
        f"Workers at a supplier's site in {case.country or 'a producing country'} complained "
        f"about {themes}. The reviewers are looking into it with the companies involved."
    )
