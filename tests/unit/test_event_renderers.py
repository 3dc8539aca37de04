"""The registry of event renderers (`grievance.http.events`): every kind of event the
services write has words for every reader who may see it, none for a reader who may not,
and an unknown kind gets a generic line instead of breaking a page."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest

from grievance.config import PROJECT_ROOT
from grievance.http import events as registry
from grievance.http.events import describe, renderer_for, renders
from grievance.models import Role, Stage
from grievance.services.caselog import EVENT_KINDS
from grievance.services.casereads import Audience, EventView, Reader, reader_sees

SERVICES = PROJECT_ROOT / "grievance" / "services"


def _appends(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.expr]]:
    """Each `caselog.append(...)` call of a module, with the function it is in and its
    kind argument."""
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for call in ast.walk(function):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "append"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "caselog"
            ):
                kind = call.args[2] if len(call.args) > 2 else None
                kind = kind or next(k.value for k in call.keywords if k.arg == "kind")
                yield function, kind


def _strings(node: ast.AST | None) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def written_kinds() -> dict[str, str]:
    """Every event kind the services write, with where: the kind argument of each
    `caselog.append` call and of each `Entry` a builder makes, a literal or a variable
    given literals in its function; for a kind read from an attribute (the sweep's
    `_Kind.event`), the module's string literals that name a kind."""
    found: dict[str, str] = {}
    for path in sorted(SERVICES.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(PROJECT_ROOT))
        for function, kind in _appends(tree):
            names: set[str] = set()
            if isinstance(kind, ast.Name):
                for node in ast.walk(function):
                    if isinstance(node, ast.Assign) and any(
                        isinstance(target, ast.Name) and target.id == kind.id
                        for target in node.targets
                    ):
                        names |= _strings(node.value)
            elif isinstance(kind, ast.Attribute):
                names = {
                    node.value
                    for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and node.value in EVENT_KINDS
                }
            else:
                names = _strings(kind)
            assert names, f"{where}:{kind.lineno}: cannot tell which kind this writes"
            for name in names:
                found[name] = where
        # the pure builders (`services/events.py`): `Entry("kind", ...)`, recorded by
        # `caselog.record`
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "Entry"
                and node.args
            ):
                for name in _strings(node.args[0]):
                    found[name] = where
    return found


def test_the_scan_finds_what_the_services_write():
    found = written_kinds()
    assert {"case_filed", "stage_changed", "deadline_reminder", "feedback_given"} <= set(found)
    undeclared = {kind: where for kind, where in found.items() if kind not in EVENT_KINDS}
    assert undeclared == {}


@pytest.mark.parametrize("kind", sorted(set(written_kinds()) | set(EVENT_KINDS)))
def test_each_kind_has_a_renderer_for_each_reader_who_may_see_it(kind):
    missing = [r.value for r in Reader if reader_sees(r, kind) and renderer_for(kind, r) is None]
    assert missing == [], f"{kind} has no renderer for {missing}"


def test_no_renderer_for_what_a_reader_never_sees():
    extra = [
        (kind, reader.value)
        for kind in EVENT_KINDS
        for reader in Reader
        if renderer_for(kind, reader) is not None and not reader_sees(reader, kind)
    ]
    assert extra == []
    assert not reader_sees(Reader.REVIEWER, "identity_revealed")  # internal: audit only
    assert not reader_sees(Reader.COMPANY, "message_to_complainant")  # the complainant's
    assert reader_sees(Reader.COMPANY, "remedy_action_recorded")
    assert not reader_sees(Reader.PUBLIC, "company_added")


def test_a_kind_is_registered_once_per_reader():
    with pytest.raises(ValueError, match="two renderers"):
        renders("case_filed", audience=Reader.COMPLAINANT)(registry.generic)


def _event(kind: str, fields: dict[str, Any] | None = None, **extra: Any) -> EventView:
    values: dict[str, Any] = {
        "seq": 1,
        "kind": kind,
        "at": datetime(2026, 3, 2, tzinfo=UTC),
        "stage_from": None,
        "stage_to": None,
        "fields": MappingProxyType(fields or {}),
    }
    values.update(extra)
    return EventView(**values)


@pytest.fixture
def english(app):
    with app.test_request_context("/?lang=en"):
        yield


@pytest.mark.usefixtures("english")
def test_each_reader_reads_its_own_words():
    moved = _event(
        "stage_changed",
        {"reason": "The facts are clear."},
        stage_from=Stage.ADMISSIBILITY,
        stage_to=Stage.INVESTIGATION,
    )
    assert describe(moved, Reader.COMPLAINANT) == "Stage: Investigation. The facts are clear."
    assert describe(moved, Audience.company(7)) == "Stage: Investigation. The facts are clear."
    assert (
        describe(moved, Reader.REVIEWER)
        == "Stage: Admissibility → Investigation. The facts are clear."
    )
    wrote = _event("message_to_complainant")
    assert describe(wrote, Reader.COMPLAINANT) == "The reviewers wrote to you."
    assert describe(wrote, Reader.SECRETARIAT) == "Message sent to the complainant."
    filed = _event("case_filed", {"channel": "sms"}, stage_to=Stage.RECEIVED)
    assert describe(filed, Reader.COMPLAINANT) == "Your complaint was received."
    assert describe(filed, Reader.REVIEWER) == "Complaint filed (Text message)."
    assert describe(filed, Reader.PUBLIC) == "Stage: Received."
    joined = _event(
        "reviewer_assigned",
        {"reviewer_id": 5, "role": "lead"},
        actor_role=Role.SYSTEM,
    )
    assert describe(joined, Reader.REVIEWER, {5: "Ana"}) == "Ana joined the case: Lead reviewer."
    assert describe(joined, Reader.REVIEWER) == "A reviewer joined the case: Lead reviewer."
    extended = _event("deadline_extended", {"days": 3, "reason": "Holidays."})
    assert (
        describe(extended, Reader.COMPLAINANT) == "More time was taken, with this reason: Holidays."
    )
    assert describe(extended, Reader.COMPANY) == "A time limit was extended by 3 days. Holidays."


@pytest.mark.usefixtures("english")
def test_an_unknown_kind_or_reader_gets_a_generic_line():
    assert describe(_event("something_new"), Reader.REVIEWER) == "The case was updated."
    # a kind with no words for this reader (the page never shows it to them anyway)
    assert describe(_event("severity_assessed"), Reader.COMPLAINANT) == "The case was updated."
