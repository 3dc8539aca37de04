"""Who is told of what happens in a case: the case services call these in the transaction
of the change, so a notice goes if and only if the change lands.

- a reviewer put on a case: told (of an urgent case, at once by e-mail);
- a decision proposed: the other reviewer, who must confirm it;
- a message from the complainant: the case's reviewers (once while unread);
- a company named in a case: its users; a company's report on remedy, and a remedy
  the complainant disputes: the reviewers; a company's remedy action with a due date:
  the company's users;
- an appeal: the reviewers and the mechanism's secretariat;
- a complainant who chose e-mail: a short notice when the reviewers write, acknowledge,
  ask for information or ask whether the harm was put right (`mailbox`).
"""

from __future__ import annotations

from grievance.models import Case, Complainant, Role, Stage
from grievance.services import mailbox, notifications, queue
from grievance.services.actors import Actor
from grievance.services.context import Context


def reviewer_placed(ctx: Context, case: Case, reviewer_id: int) -> None:
    urgent = queue.is_urgent(case, ctx.case_policy(case))
    kind = notifications.URGENT_CASE if urgent else notifications.CASE_ASSIGNED
    notifications.notify(ctx, [reviewer_id], kind, case=case, once_unread=True)


def decision_proposed(ctx: Context, case: Case, proposer_id: int | None) -> None:
    others = [user for user in notifications.reviewers_of(ctx, case) if user != proposer_id]
    notifications.notify(ctx, others, notifications.DECISION_WAITING, case=case)


def stage_entered(ctx: Context, case: Case, target: Stage) -> None:
    if target is Stage.ACKNOWLEDGED:
        mailbox.queue_for_complainants(ctx, case, mailbox.ACKNOWLEDGED)
    elif target is Stage.APPEAL:
        told = notifications.reviewers_of(ctx, case)
        told += notifications.secretariat_of(ctx, case.mechanism_id)
        notifications.notify(ctx, told, notifications.CASE_CONTESTED, case=case)


def message_from_complainant(ctx: Context, case: Case) -> None:
    notifications.tell_reviewers(
        ctx, case, notifications.MESSAGE_FROM_COMPLAINANT, once_unread=True
    )


def message_to_complainant(ctx: Context, case: Case, complainant: Complainant) -> None:
    mailbox.queue_for_complainant(ctx, case, complainant, mailbox.MESSAGE)


def information_requested(ctx: Context, case: Case) -> None:
    mailbox.queue_for_complainants(ctx, case, mailbox.INFORMATION_REQUESTED)


def company_added(ctx: Context, case: Case, company_id: int) -> None:
    users = notifications.company_users(ctx, company_id)
    notifications.notify(ctx, users, notifications.COMPANY_CASE, case=case)


def remedy_reported(
    ctx: Context, case: Case, actor: Actor, company_id: int | None, due: bool
) -> None:
    """A remedy action recorded or updated: a company's report goes to the reviewers; an
    action of a company with a due date, to that company's users (but who recorded it)."""
    if actor.role is Role.COMPANY:
        notifications.tell_reviewers(ctx, case, notifications.COMPANY_REPORTED)
    if due and company_id is not None:
        staff = notifications.company_users(ctx, company_id)
        told = [user for user in staff if user != actor.user_id]
        notifications.notify(ctx, told, notifications.COMPANY_DEADLINE, case=case)


def remedy_disputed(ctx: Context, case: Case) -> None:
    notifications.tell_reviewers(ctx, case, notifications.REMEDY_DISPUTED)
