"""The case log as an audience sees it: the events it may see, each with only the
fields its visibility allows (`caselog.visible_payload`); for a company, only those that
concern it. The whole log is read in one query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from grievance.models import Case, CaseEvent
from grievance.services.caselog import visible_payload
from grievance.services.casereads.audiences import (
    Audience,
    CompanyScope,
    Reader,
    private_to_a_company,
)
from grievance.services.casereads.views import EventView, freeze
from grievance.services.context import Context

#: The payload fields that list time limits opened or closed by an event.
_DEADLINE_LISTS = ("deadlines_opened", "deadlines_closed", "deadlines")


def case_events(ctx: Context, case: Case) -> list[CaseEvent]:
    """The case's whole log, in order, in one query."""
    return list(
        ctx.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )


def event_views(
    events: Iterable[CaseEvent], audience: Audience, scope: CompanyScope | None = None
) -> tuple[EventView, ...]:
    """The events an audience may see, each with only the fields it may see
    (`caselog.visible_payload`); for a company, only those that concern it, and of their
    time limits only the case's and its own (`scope` is needed then)."""
    shown = []
    for event in events:
        fields = visible_payload(event, audience.visibility)
        if fields is None:
            continue
        if audience.reader in (Reader.COMPLAINANT, Reader.PUBLIC) and private_to_a_company(
            event.kind
        ):
            continue  # a company's private responses are the company's and the mechanism's
        if audience.company_id is not None:
            assert scope is not None, "a company's view needs the case's company scope"
            if not scope.concerns_company(event, audience.company_id):
                continue
            fields = _own_time_limits(fields, scope, audience.company_id)
        shown.append(
            EventView(
                seq=event.seq,
                kind=event.kind,
                at=event.created_at,
                stage_from=event.stage_from,
                stage_to=event.stage_to,
                fields=freeze(fields),
                actor_role=event.actor_role if audience.staff else None,
                actor_id=event.actor_id if audience.staff else None,
            )
        )
    return tuple(shown)


def _own_time_limits(
    fields: dict[str, Any], scope: CompanyScope, company_id: int
) -> dict[str, Any]:
    kept = dict(fields)
    for name in _DEADLINE_LISTS:
        items = kept.get(name)
        if isinstance(items, list):
            kept[name] = [
                item
                for item in items
                if not isinstance(item, Mapping) or scope.keeps_code(item.get("code"), company_id)
            ]
    return kept
