"""Retention (R30): the identities of a closed case are erased when the mechanism's
retention period has passed, unless the case is under legal hold. Erasing deletes the
case's data key, so every encrypted value of the case (identities, contact addresses,
the complainant's own words, messages) is gone for good; the log survives."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from grievance.models import Attachment, Case, Complainant, Mechanism, Role
from grievance.models.case import ENDED_STAGES
from grievance.policies import default_policy
from grievance.services import caselog, contacts, mailbox
from grievance.services.actors import SYSTEM, Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed, ReasonRequired
from grievance.services.texts import clean_text


def erase_expired_identities(ctx: Context) -> list[str]:
    """Erase what retention says must go now; the references of the cases erased.

    A job: each case is erased and committed on its own.
    """
    now = ctx.now()
    shortest = _shortest_retention_days(ctx)
    candidates = ctx.session.execute(
        select(Case.id, Case.closed_at)
        .where(
            Case.stage.in_(ENDED_STAGES),
            Case.identities_erased_at.is_(None),
            Case.legal_hold.is_(False),
            Case.closed_at <= now - timedelta(days=shortest),
        )
        .order_by(Case.closed_at, Case.id)
    ).all()
    ctx.session.commit()  # end the read; each case gets its own transaction
    erased = []
    for case_id, _closed_at in candidates:
        case = ctx.session.get_one(Case, case_id)
        days = ctx.case_policy(case).retention.identity_days_after_close
        assert case.closed_at is not None
        if case.closed_at + timedelta(days=days) > now:
            continue
        erase_case_identities(ctx, case, days)
        ctx.session.commit()
        erased.append(case.reference)
    return erased


def _shortest_retention_days(ctx: Context) -> int:
    """The shortest retention period of any policy version in force: only cases closed at
    least that long ago are candidates (each is then checked against its own policy)."""
    periods = [default_policy().retention.identity_days_after_close]
    for mechanism in ctx.session.scalars(select(Mechanism)):
        for row in mechanism.policies:
            periods.append(ctx.policy(mechanism, row.version).retention.identity_days_after_close)
    return min(periods)


@atomic
def erase_case_identities(ctx: Context, case: Case, retention_days: int) -> Case:
    case = ctx.lock_case(case)
    if case.legal_hold or case.identities_erased_at is not None or case.stage not in ENDED_STAGES:
        return case  # changed meanwhile
    now = ctx.now()
    ctx.vault.erase(case.id)
    complainants = list(
        ctx.session.scalars(select(Complainant).where(Complainant.case_id == case.id))
    )
    for complainant in complainants:
        complainant.name_enc = complainant.details_enc = None
        complainant.represents_enc = complainant.contact_enc = None
        complainant.phone_lookup = None  # no longer links this case to a phone number
        complainant.erased_at = now
    # The data key is gone, so the files no longer open; their bytes go too.
    ctx.session.execute(
        update(Attachment)
        .where(Attachment.case_id == case.id)
        .values(filename_enc=b"", content_enc=b"")
    )
    case.identities_erased_at = now
    contacts.forget_conversations(ctx, case)
    mailbox.cancel_for_case(ctx, case.id)
    caselog.append(
        ctx.session,
        case,
        "identities_erased",
        SYSTEM,
        now,
        {"complainants": len(complainants), "retention_days": retention_days},
    )
    return case


@atomic
def set_legal_hold(ctx: Context, case: Case, actor: Actor, hold: bool, reason: str) -> Case:
    """Keep a case's identities past retention (a court order, a pending claim), or
    release it. The secretariat decides; the reason is logged."""
    case = ctx.lock_case(case)
    if actor.role is not Role.SECRETARIAT:
        raise NotAllowed("the secretariat sets and lifts legal holds")
    require_part(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("give the legal ground")
    case.legal_hold = hold
    caselog.append(
        ctx.session,
        case,
        "legal_hold_changed",
        actor,
        ctx.now(),
        {"legal_hold": hold, "reason": reason},
    )
    return case
