"""The reviewers' queue (R16, R17): which case comes first.

`Case.queue_rank` is the first key (lower first), `Case.next_due_at` the second (kept by
`deadlines.refresh_next_due`), the case id the last. The rank is an integer

    band * 1000 + (15 - severity) * 10 + (5 - likelihood)

where severity is scale + scope + irremediability (3 to 15) and likelihood 1 to 5; a case
not yet assessed counts as the worst (15 and 5). The bands:

- 0: irremediable if delayed: assessed irremediability of 4 or more (R17: first whatever
  its likelihood), a high reprisal risk (R16: a reprisal jumps the queue), or an urgent
  case not yet assessed (someone in danger, an urgent theme of the policy: presumed
  irremediable until a reviewer assesses it);
- 1: not yet assessed, ordinary: its severity is unknown, and assessing it is the next step;
- 2: assessed, the rest.

So 0 is an urgent case nobody has assessed yet, 1000 an ordinary new case, 2124 the
mildest assessed case (severity 3, likelihood 1).

The queue marks a case urgent exactly when it is in the first band, and says why
(`urgency_reasons`): an urgent theme or the filer's word count until a reviewer assesses
the case; after that its assessment decides (irremediability, reprisal risk). So urgency
ranks first and stays rare, instead of marking every case with an urgent theme for good.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from grievance.models import Case, ReprisalRisk
from grievance.policies import Policy

#: Irremediability from which delay makes harm irremediable (R17).
IRREMEDIABLE_FROM = 4
BAND = 1000
IRREMEDIABLE, UNASSESSED, ASSESSED = 0, 1, 2
MAX_SEVERITY, MAX_LIKELIHOOD = 15, 5


def rank(
    *,
    urgent: bool,
    reprisal_high: bool = False,
    scale: int | None = None,
    scope: int | None = None,
    irremediability: int | None = None,
    likelihood: int | None = None,
) -> int:
    """The queue rank of a case (see the module docstring): lower comes first."""
    if scale is None or scope is None or irremediability is None or likelihood is None:
        severity, likelihood = MAX_SEVERITY, MAX_LIKELIHOOD
        band = IRREMEDIABLE if urgent or reprisal_high else UNASSESSED
    else:
        severity = scale + scope + irremediability
        irremediable = irremediability >= IRREMEDIABLE_FROM or reprisal_high
        band = IRREMEDIABLE if irremediable else ASSESSED
    return band * BAND + (MAX_SEVERITY - severity) * 10 + (MAX_LIKELIHOOD - likelihood)


class UrgencyReason(enum.StrEnum):
    """Why a case is in the first band, as the queue and the case page say it."""

    DANGER = "danger"  # the filer said someone is in danger (until assessed)
    URGENT_THEME = "urgent_theme"  # child labour, forced labour, reprisal ... (until assessed)
    HIGH_REPRISAL_RISK = "high_reprisal_risk"
    IRREMEDIABLE = "irremediable"  # assessed irremediability of 4 or more


def urgency_reasons(
    *,
    danger: bool,
    urgent_theme: bool,
    reprisal_high: bool,
    irremediability: int | None,
) -> tuple[UrgencyReason, ...]:
    """Why a case ranks in the first band (`rank`), most telling first; empty: it does
    not. `irremediability` None: not assessed yet."""
    reasons = []
    if irremediability is not None and irremediability >= IRREMEDIABLE_FROM:
        reasons.append(UrgencyReason.IRREMEDIABLE)
    if reprisal_high:
        reasons.append(UrgencyReason.HIGH_REPRISAL_RISK)
    if irremediability is None and danger:
        reasons.append(UrgencyReason.DANGER)
    if irremediability is None and urgent_theme:
        reasons.append(UrgencyReason.URGENT_THEME)
    return tuple(reasons)


def is_urgent(case: Case, policy: Policy) -> bool:
    """Someone in danger (the filer said so), an urgent theme of the policy (child labour,
    forced labour, reprisal), or a high reprisal risk: assigned at once, reviewers told."""
    return urgency(
        urgent=case.urgent,
        themes=case.theme_codes,
        reprisal_risk=case.reprisal_risk,
        urgent_themes=policy.urgent_themes,
    )


def urgency(
    *,
    urgent: bool,
    themes: Iterable[str],
    reprisal_risk: ReprisalRisk | None,
    urgent_themes: frozenset[str],
) -> bool:
    """`is_urgent` on plain values: what the filer said, the case's themes, its reprisal
    risk and the policy's urgent themes."""
    return urgent or not urgent_themes.isdisjoint(themes) or reprisal_risk is ReprisalRisk.HIGH


def refresh_queue_rank(case: Case, policy: Policy) -> int:
    """Set the case's queue rank from what is known of it now; call it wherever its
    urgency, severity or reprisal risk changes."""
    case.queue_rank = rank(
        urgent=is_urgent(case, policy),
        reprisal_high=case.reprisal_risk is ReprisalRisk.HIGH,
        scale=case.severity_scale,
        scope=case.severity_scope,
        irremediability=case.severity_irremediability,
        likelihood=case.severity_likelihood,
    )
    return case.queue_rank
