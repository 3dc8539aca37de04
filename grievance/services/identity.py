"""Looking at a complainant's identity: allowed only to assigned reviewers of cases that
are not anonymous, always with a reason, always logged (DESIGN §5, R15)."""

from __future__ import annotations

from dataclasses import dataclass

from grievance.models import Anonymity, Case, Complainant, Role
from grievance.services import caselog
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed, ReasonRequired

FIELDS = ("name", "details", "represents", "contact")


@dataclass(frozen=True)
class Identity:
    name: str
    details: str
    represents: str
    contact: str


@atomic
def reveal_identity(
    ctx: Context, case: Case, complainant: Complainant, actor: Actor, reason: str
) -> Identity:
    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only an assigned reviewer may see an identity")
    require_part(ctx, actor, case)
    if complainant.case_id != case.id:
        raise NotAllowed("not a complainant of this case")
    if complainant.anonymity is Anonymity.ANONYMOUS:
        raise NotAllowed("the complainant chose to stay anonymous")
    if not reason.strip():
        raise ReasonRequired("say why you need to see the identity")
    prefix = f"complainant.{complainant.id}"
    values = {}
    for name in FIELDS:
        blob = getattr(complainant, f"{name}_enc")
        values[name] = ctx.vault.open(case.id, f"{prefix}.{name}", blob) if blob else ""
    caselog.append(
        ctx.session,
        case,
        "identity_revealed",
        actor,
        ctx.now(),
        {"complainant_id": complainant.id, "fields": list(FIELDS), "reason": reason.strip()},
    )
    return Identity(**values)
