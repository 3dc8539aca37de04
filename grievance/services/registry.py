"""The public case registry of a mechanism (issue 16, item 1; docs/registry.md).

Only published cases (`transparency.is_published`, here as one SQL condition,
`published_condition`, so a page is one query whatever the number of cases), and of each
only the allow-listed facts: reference, country, sector, themes, the companies when the
mechanism's policy names them, stage, dates, outcome and the approved public summary
(`public_summary`), never the complainant's words. Pages are keyset pages (newest
first, `after` the last reference's id), never OFFSET; counts shown (the facets) go
through `small_numbers`. The page, the CSV and JSON exports and the Atom feed are all
built here, so they show exactly the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from grievance.models import (
    MECHANISM_CODE,
    Case,
    CaseEvent,
    CaseTheme,
    Company,
    Complainant,
    Consent,
    Involvement,
    Mechanism,
    ReprisalRisk,
    Stage,
    Visibility,
)
from grievance.models.case import ENDED_STAGES
from grievance.services import public_summary, small_numbers, transparency
from grievance.services.canonical import time_text
from grievance.services.context import Context

PAGE_SIZE = 25
FEED_SIZE = 50
CSV_COLUMNS = (
    "reference",
    "country",
    "sector",
    "themes",
    "companies",
    "stage",
    "received",
    "closed",
    "outcome",
    "summary",
)


def published_condition() -> sa.ColumnElement[bool]:
    """`transparency.is_published` as a condition on `Case` (joined to its `Mechanism`):
    the mechanism publishes cases, the reprisal risk was assessed and is not high, the
    case has complainants and every one consented to publication and did not withdraw."""
    consenting = (
        select(Consent.id)
        .where(
            Consent.complainant_id == Complainant.id,
            Consent.purpose == transparency.PUBLISH_CONSENT,
            Consent.granted.is_(True),
            Consent.withdrawn_at.is_(None),
        )
        .exists()
    )
    refusing = select(Complainant.id).where(Complainant.case_id == Case.id, ~consenting).exists()
    anyone = select(Complainant.id).where(Complainant.case_id == Case.id).exists()
    return sa.and_(
        Mechanism.publishes_cases.is_(True),
        Case.reprisal_risk.is_not(None),
        Case.reprisal_risk != ReprisalRisk.HIGH,
        anyone,
        ~refusing,
    )


@dataclass(frozen=True)
class Filters:
    country: str | None = None
    theme: str | None = None
    stage: Stage | None = None
    year: int | None = None

    def query(self) -> dict[str, str]:
        """The filters as query arguments (for links to the next page and the exports)."""
        found = {
            "country": self.country,
            "theme": self.theme,
            "stage": self.stage.value if self.stage else None,
            "year": str(self.year) if self.year else None,
        }
        return {name: value for name, value in found.items() if value}


@dataclass(frozen=True)
class CompanyEntry:
    name: str
    involvement: str | None


@dataclass(frozen=True)
class Entry:
    """One published case as the registry shows it."""

    id: int
    reference: str
    country: str | None
    sector: str
    themes: tuple[str, ...]
    companies: tuple[CompanyEntry, ...]
    stage: Stage
    received_at: datetime
    closed_at: datetime | None
    summary: public_summary.Summary | None

    @property
    def outcome(self) -> Stage | None:
        """How the case ended (closed, inadmissible, referred, withdrawn), if it has."""
        return self.stage if self.stage in ENDED_STAGES else None

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "country": self.country,
            "sector": self.sector,
            "themes": list(self.themes),
            "companies": [
                {"name": company.name, "involvement": company.involvement}
                for company in self.companies
            ],
            "stage": self.stage.value,
            "received": self.received_at.date().isoformat(),
            "closed": self.closed_at.date().isoformat() if self.closed_at else None,
            "outcome": self.outcome.value if self.outcome else None,
            "summary": self.summary.text if self.summary else None,
            "summary_language": self.summary.language if self.summary else None,
        }

    def as_row(self) -> list[str]:
        """The entry as a CSV row (`CSV_COLUMNS`): lists joined with "; "."""
        data = self.as_json()
        companies = "; ".join(
            f"{c['name']} ({c['involvement']})" if c["involvement"] else c["name"]
            for c in data["companies"]
        )
        values = {**data, "themes": "; ".join(data["themes"]), "companies": companies}
        return ["" if values[name] is None else str(values[name]) for name in CSV_COLUMNS]


@dataclass(frozen=True)
class Page:
    entries: tuple[Entry, ...]
    #: The `after` of the next page, None on the last.
    next_after: int | None
    filters: Filters = field(default_factory=Filters)


def mechanism_named(ctx: Context, code: str) -> Mechanism | None:
    """The mechanism with this code (any case), None if none."""
    code = code.upper()
    if MECHANISM_CODE.fullmatch(code) is None:
        return None
    return ctx.session.scalar(select(Mechanism).where(Mechanism.code == code))


def filters_from(ctx: Context, mechanism: Mechanism, args: Mapping[str, str]) -> Filters:
    """The filters asked for in query arguments; a value that is not one is left out (the
    page shows the filters that hold)."""
    country = (args.get("country") or "").upper()
    theme = args.get("theme") or ""
    stage = args.get("stage") or ""
    year = args.get("year") or ""
    return Filters(
        country=country if len(country) == 2 and country.isalpha() else None,
        theme=theme if theme in ctx.policy(mechanism).theme_codes else None,
        stage=Stage(stage) if stage in {member.value for member in Stage} else None,
        year=int(year) if year.isdigit() and 1990 <= int(year) <= 2200 else None,
    )


def after_from(args: Mapping[str, str]) -> int | None:
    """The keyset cursor of a page (`after`), None when absent or not a number."""
    after = args.get("after") or ""
    return int(after) if after.isdigit() and len(after) < 19 else None


def _base(mechanism: Mechanism) -> sa.Select[Any]:
    return (
        select(Case)
        .join(Mechanism, Mechanism.id == Case.mechanism_id)
        .where(Case.mechanism_id == mechanism.id, published_condition())
    )


def _filtered(query: sa.Select[Any], filters: Filters) -> sa.Select[Any]:
    if filters.country:
        query = query.where(Case.country == filters.country)
    if filters.stage:
        query = query.where(Case.stage == filters.stage)
    if filters.year:
        start, end = (datetime(year, 1, 1, tzinfo=UTC) for year in (filters.year, filters.year + 1))
        query = query.where(Case.received_at >= start, Case.received_at < end)
    if filters.theme:
        query = query.where(
            select(CaseTheme.case_id)
            .where(CaseTheme.case_id == Case.id, CaseTheme.theme == filters.theme)
            .exists()
        )
    return query


def page(
    ctx: Context,
    mechanism: Mechanism,
    filters: Filters = Filters(),
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """A page of the registry, newest first: the cases (one query, keyset on the id),
    their themes, companies and summaries (one query each)."""
    query = _filtered(_base(mechanism), filters).order_by(Case.id.desc()).limit(size + 1)
    if after is not None:
        query = query.where(Case.id < after)
    rows = list(ctx.session.scalars(query))
    more = len(rows) > size
    rows = rows[:size]
    entries = _entries(ctx, mechanism, rows)
    return Page(entries, rows[-1].id if more and rows else None, filters)


def _entries(ctx: Context, mechanism: Mechanism, rows: Sequence[Case]) -> tuple[Entry, ...]:
    ids = [row.id for row in rows]
    themes: dict[int, list[str]] = defaultdict(list)
    companies: dict[int, list[CompanyEntry]] = defaultdict(list)
    if ids:
        for case_id, theme in ctx.session.execute(
            select(CaseTheme.case_id, CaseTheme.theme)
            .where(CaseTheme.case_id.in_(ids))
            .order_by(CaseTheme.theme)
        ):
            themes[case_id].append(theme)
        if ctx.policy(mechanism).registry.companies == "involved":
            for case_id, name, kind in ctx.session.execute(
                select(Involvement.case_id, Company.name, Involvement.kind)
                .join(Company, Company.id == Involvement.company_id)
                .where(Involvement.case_id.in_(ids), Involvement.superseded_at.is_(None))
                .order_by(Company.name)
            ):
                companies[case_id].append(CompanyEntry(name, kind.value if kind else None))
    summaries = public_summary.approved_of(ctx, ids)
    return tuple(
        Entry(
            id=row.id,
            reference=row.reference,
            country=row.country,
            sector=mechanism.sector,
            themes=tuple(themes[row.id]),
            companies=tuple(companies[row.id]),
            stage=row.stage,
            received_at=row.received_at,
            closed_at=row.closed_at,
            summary=summaries.get(row.id),
        )
        for row in rows
    )


def find(ctx: Context, mechanism: Mechanism, reference: str) -> Entry | None:
    """A published case of the mechanism by its reference; None if there is none (or it
    is withheld: the same answer)."""
    row = ctx.session.scalars(_base(mechanism).where(Case.reference == reference)).first()
    return _entries(ctx, mechanism, [row])[0] if row is not None else None


@dataclass(frozen=True)
class Facets:
    """Counts of the mechanism's published cases, small numbers suppressed."""

    total: small_numbers.Cell
    countries: dict[str, small_numbers.Cell]
    stages: dict[str, small_numbers.Cell]
    themes: dict[str, small_numbers.Cell]


def facets(ctx: Context, mechanism: Mechanism) -> Facets:
    """By country and by stage (each case in one cell: secondary suppression against the
    total), and by theme (cells overlap: no total, each small cell hidden)."""
    published = _base(mechanism).with_only_columns(Case.id)

    def counts(column: Any, case_id: Any) -> dict[str, int]:
        query = select(column, sa.func.count()).where(case_id.in_(published)).group_by(column)
        return {str(key or ""): count for key, count in ctx.session.execute(query)}

    countries, total = small_numbers.suppress(counts(Case.country, Case.id))
    stages, _ = small_numbers.suppress(counts(Case.stage, Case.id))
    themes = small_numbers.suppress_overlapping(counts(CaseTheme.theme, CaseTheme.case_id))
    return Facets(total, countries, stages, themes)


@dataclass(frozen=True)
class FeedItem:
    reference: str
    seq: int
    kind: str
    created_at: datetime
    hash: str


def feed(ctx: Context, mechanism: Mechanism, size: int = FEED_SIZE) -> list[FeedItem]:
    """The newest public events of the mechanism's published cases (the Atom feed)."""
    query = (
        select(Case.reference, CaseEvent.seq, CaseEvent.kind, CaseEvent.created_at, CaseEvent.hash)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Mechanism, Mechanism.id == Case.mechanism_id)
        .where(
            Case.mechanism_id == mechanism.id,
            CaseEvent.visibility == Visibility.PUBLIC,
            published_condition(),
        )
        .order_by(CaseEvent.id.desc())
        .limit(size)
    )
    return [FeedItem(*row) for row in ctx.session.execute(query)]


def stamp(moment: datetime) -> str:
    """An RFC 3339 time (UTC) for the feed."""
    return time_text(moment)
