"""The reviewer's queue (`/staff/reviewer/`): the cases they are on now, with filters,
in keyset pages (`services.workspace.reviewer_queue`); a forged page token is a 400."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext

from grievance.http.context import service_context
from grievance.http.labels import STAGE_NAMES
from grievance.models import Role, Stage
from grievance.policies import default_policy
from grievance.services import workspace
from grievance.services.workspace import (
    InvalidCursor,
    QueueFilters,
    QueueKey,
    queue_choices,
    reviewer_queue,
)
from grievance.web.auth import staff_required
from grievance.web.reviewer.common import language_name, reviewer
from grievance.web.reviewer_labels import ASSIGNMENT_ROLE_NAMES, BAND_NAMES, URGENCY_NAMES


def _filters(args: Mapping[str, str], mechanisms: set[str], languages: set[str]) -> QueueFilters:
    """The filters asked for; anything not offered is ignored (no error to reveal)."""
    stage_value = args.get("stage", "")
    stage = next((s for s in Stage if s.value == stage_value), None)
    mechanism = args.get("mechanism", "")
    language = args.get("language", "")
    return QueueFilters(
        stage=stage,
        include_ended=stage_value == "all",
        mechanism=mechanism if mechanism in mechanisms else None,
        language=language if language in languages else None,
        overdue=args.get("overdue") == "1",
        urgent=args.get("urgent") == "1",
    )


@staff_required(Role.REVIEWER)
def queue_page() -> str:
    user = reviewer()
    ctx = service_context()
    offered = queue_choices(ctx, user.id)
    filters = _filters(
        request.args, {code for code, _ in offered.mechanisms}, set(offered.languages)
    )
    after = None
    token = request.args.get("after")
    if token is not None:
        try:
            after = QueueKey.from_token(token)
        except InvalidCursor:
            abort(400)
    page = reviewer_queue(ctx, user.id, filters, after, limit=workspace.PAGE_SIZE)
    chosen = {
        "stage": "all" if filters.include_ended else (filters.stage or ""),
        "mechanism": filters.mechanism or "",
        "language": filters.language or "",
        "overdue": "1" if filters.overdue else "",
        "urgent": "1" if filters.urgent else "",
    }
    kept: dict[str, Any] = {name: value for name, value in chosen.items() if value}
    next_url = (
        url_for("reviewer.queue", **kept, after=page.next_key.token()) if page.next_key else None
    )
    policy = default_policy()
    return render_template(
        "reviewer/queue.html",
        rows=page.rows,
        next_url=next_url,
        first_url=url_for("reviewer.queue", **kept) if after is not None else None,
        chosen=chosen,
        stages=[(stage.value, STAGE_NAMES[stage]) for stage in Stage],
        mechanisms=offered.mechanisms,
        languages=[(code, language_name(policy, code)) for code in offered.languages],
        language_names={code: language_name(policy, code) for code in offered.languages},
        stage_names=STAGE_NAMES,
        band_names=BAND_NAMES,
        role_names=ASSIGNMENT_ROLE_NAMES,
        urgency_names=URGENCY_NAMES,
        me=user.id,
        theme_names={theme.code: gettext(theme.label) for theme in policy.themes},
    )


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/", "queue", queue_page, methods=["GET"])
