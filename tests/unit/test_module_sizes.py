"""The layout issue's rule: no module in `grievance/` or `intake/` is over 500 lines (the
migrations aside), so that each stays one job, easy to read and to change."""

from __future__ import annotations

from grievance.config import PROJECT_ROOT

LIMIT = 500


def test_no_module_is_over_500_lines() -> None:
    too_long = {
        path.relative_to(PROJECT_ROOT).as_posix(): lines
        for folder in ("grievance", "intake")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert too_long == {}, f"split these along their seams: {too_long}"
