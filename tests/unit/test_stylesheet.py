"""One stylesheet with named design tokens: every colour is a custom property of `:root`,
used by name everywhere else; tables that stack on narrow screens label their cells."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STYLESHEET = ROOT / "grievance" / "static" / "site.css"
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(")


def _root_and_rest(css: str) -> tuple[str, str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    match = re.search(r":root\s*\{(.*?)\}", css, flags=re.S)
    assert match, "no :root block of design tokens"
    return match.group(1), css[: match.start()] + css[match.end() :]


def test_every_colour_is_a_named_token() -> None:
    tokens, rest = _root_and_rest(STYLESHEET.read_text(encoding="utf-8"))
    assert len(re.findall(r"--[a-z-]+\s*:", tokens)) >= 10
    assert not COLOUR.findall(rest), "colours outside :root; name them as tokens"


def test_there_is_one_stylesheet() -> None:
    assert [p.name for p in STYLESHEET.parent.glob("*.css")] == ["site.css"]


def test_stacked_tables_label_every_cell() -> None:
    """A table of class `stack` shows each row as a card below 40 rem: every cell
    carries its column's name, or the card would show values without their meaning."""
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text(encoding="utf-8")
        for table in re.findall(r'<table class="stack[^"]*">(.*?)</table>', html, flags=re.S):
            cells = re.findall(r"<td\b[^>]*>", table)
            assert cells, template
            unlabelled = [cell for cell in cells if "data-label=" not in cell]
            assert not unlabelled, f"{template.name}: {unlabelled}"


def test_every_staff_table_stacks() -> None:
    for folder in ("staff", "reviewer"):
        for template in (ROOT / "templates" / folder).rglob("*.html"):
            html = template.read_text(encoding="utf-8")
            plain = re.findall(r"<table(?![^>]*\bclass=\"stack)[^>]*>", html)
            assert not plain, f"{template.name}: a table that does not stack at 320 px"
