"""Reviewers' profiles (issue #5): what a reviewer covers (languages, themes, countries),
how much they take (capacity, availability) and their declared conflicts of interest.

No Flask here: `grievance/web/profile.py` calls these. Who may:

- a reviewer changes their own profile, declares and withdraws their own conflicts;
- an administrator sees and changes any reviewer's profile and declares a conflict for
  them (it only ever takes the reviewer off cases), but never withdraws one: a conflict
  is the reviewer's own declaration, and withdrawing it puts them back in front of the
  company's cases;
- nobody else (`NotAllowed`).

Routing reads the profile (`routing.candidates`). When a change makes the reviewer
eligible for more cases (available again, a higher capacity, a conflict withdrawn), the
cases still waiting for a reviewer (a lead or second role left empty because nobody was
eligible) are routed again at once, most urgent first (`route_waiting_cases`). The
reviewers are one roster for every mechanism (see `filing.recording_mechanisms`), so the
waiting cases of every mechanism are the reviewer's to take. A declared conflict takes
the reviewer off every case it touches (`routing.declare_conflict`). The cases a reviewer
has stay theirs when they become unavailable or lower their capacity: only new cases
are affected.

Every change is written to the `grievance.audit` log by user id (who changed whose
profile, which fields, which conflict), never with a reason's text. A withdrawn conflict
is kept, with the day and the reason it was withdrawn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from sqlalchemy import func, select

from grievance.models import (
    Assignment,
    Case,
    Company,
    Conflict,
    Mechanism,
    ReviewerProfile,
    Role,
    Site,
    User,
)
from grievance.models.case import ENDED_STAGES
from grievance.policies import Language, Policy, Theme, default_policy
from grievance.services import routing
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed

audit = logging.getLogger("grievance.audit")

#: The most open cases a reviewer may ask for (a typo guard, not a policy).
MAX_CAPACITY = 200
#: The defaults of a profile not saved yet (the model's defaults).
DEFAULT_CAPACITY = 10
REASON_MAX = 2000
#: How many waiting cases one change looks at, most urgent first.
WAITING_SCAN = 1000
#: ISO 3166 codes that are not countries (Babel lists them among its territories).
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
PROFILE_FIELDS = ("languages", "themes", "countries", "capacity", "available")


@dataclass(frozen=True)
class ProfileSettings:
    """What a reviewer covers and takes: the editable part of a profile."""

    languages: Sequence[str] = ()
    themes: Sequence[str] = ()
    countries: Sequence[str] = ()
    capacity: int = DEFAULT_CAPACITY
    available: bool = True


@dataclass(frozen=True)
class ProfileSaved:
    profile: ReviewerProfile
    #: The fields that changed (of PROFILE_FIELDS), in that order.
    changed: tuple[str, ...]
    #: Waiting cases the reviewer was put on because of the change.
    taken: tuple[Case, ...] = ()


@dataclass(frozen=True)
class ConflictDeclared:
    conflict: Conflict
    #: The cases the reviewer left because of the conflict.
    left: tuple[Case, ...] = ()


@dataclass(frozen=True)
class ConflictWithdrawn:
    conflict: Conflict
    taken: tuple[Case, ...] = ()


# -- who may --------------------------------------------------------------------------------


def may_edit(actor: Actor, reviewer: User) -> bool:
    """The reviewer themselves, or an administrator; only for a reviewer's account."""
    if reviewer.role is not Role.REVIEWER:
        return False
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.REVIEWER and actor.user_id == reviewer.id


def _require_editor(actor: Actor, reviewer: User) -> None:
    if reviewer.role is not Role.REVIEWER:
        raise NotAllowed(f"user {reviewer.id} is not a reviewer")
    if not may_edit(actor, reviewer):
        raise NotAllowed("a reviewer's profile is theirs and the administrators' to change")


def _who(actor: Actor) -> str:
    return str(actor.user_id) if actor.user_id is not None else actor.role.value


# -- what may be chosen ---------------------------------------------------------------------


def _policies(ctx: Context) -> list[Policy]:
    mechanisms = ctx.session.scalars(select(Mechanism).order_by(Mechanism.id)).all()
    return [ctx.policy(mechanism) for mechanism in mechanisms] or [default_policy()]


def offered_languages(ctx: Context) -> list[Language]:
    """Every language the mechanisms' policies list (the languages the software speaks),
    in the order of the first policy that names each."""
    found: dict[str, Language] = {}
    for policy in _policies(ctx):
        for language in policy.language:
            found.setdefault(language.code, language)
    return list(found.values())


def offered_themes(ctx: Context) -> list[Theme]:
    """Every theme a mechanism's policy uses (enabled), in policy order."""
    found: dict[str, Theme] = {}
    for policy in _policies(ctx):
        for theme in policy.themes:
            found.setdefault(theme.code, theme)
    return list(found.values())


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes of countries (as Babel/CLDR knows them)."""
    return frozenset(
        str(code)
        for code in Locale.parse("en").territories
        if re.fullmatch(r"[A-Z]{2}", str(code)) and code not in NOT_COUNTRIES
    )


def profile_of(ctx: Context, reviewer: User) -> ReviewerProfile | None:
    return ctx.session.get(ReviewerProfile, reviewer.id)


def current_settings(ctx: Context, reviewer: User) -> ProfileSettings:
    """The reviewer's settings, or the defaults of a new profile."""
    profile = profile_of(ctx, reviewer)
    if profile is None:
        return ProfileSettings()
    return ProfileSettings(
        languages=tuple(profile.languages or ()),
        themes=tuple(profile.themes or ()),
        countries=tuple(profile.countries or ()),
        capacity=profile.capacity,
        available=profile.available,
    )


def _codes(values: Iterable[str]) -> list[str]:
    return sorted({value.strip() for value in values if value and value.strip()})


def _validate(ctx: Context, settings: ProfileSettings, before: ProfileSettings) -> dict[str, Code]:
    errors: dict[str, Code] = {}
    # A code the reviewer has already may stay, even if the policies dropped it since.
    languages = {language.code for language in offered_languages(ctx)} | set(before.languages)
    if set(_codes(settings.languages)) - languages:
        errors["languages"] = Code.UNKNOWN
    themes = {theme.code for theme in offered_themes(ctx)} | set(before.themes)
    if set(_codes(settings.themes)) - themes:
        errors["themes"] = Code.UNKNOWN
    if set(_codes(settings.countries)) - country_codes() - set(before.countries):
        errors["countries"] = Code.UNKNOWN
    capacity = settings.capacity
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not 0 <= capacity <= MAX_CAPACITY
    ):
        errors["capacity"] = Code.OUT_OF_RANGE
    return errors


# -- the profile ------------------------------------------------------------------------------


@atomic
def update_profile(
    ctx: Context, actor: Actor, reviewer: User, settings: ProfileSettings
) -> ProfileSaved:
    """Save a reviewer's languages, themes, countries, capacity and availability (creating
    the profile on its first save). If the reviewer becomes available, or gains capacity
    while available, waiting cases are routed again."""
    _require_editor(actor, reviewer)
    before = current_settings(ctx, reviewer)
    profile = profile_of(ctx, reviewer)
    errors = _validate(ctx, settings, before)
    if errors:
        raise InvalidInput(errors, {"capacity": {"min": 0, "max": MAX_CAPACITY}})
    after = ProfileSettings(
        languages=tuple(_codes(settings.languages)),
        themes=tuple(_codes(settings.themes)),
        countries=tuple(_codes(settings.countries)),
        capacity=settings.capacity,
        available=bool(settings.available),
    )
    created = profile is None
    if profile is None:
        profile = ReviewerProfile(user_id=reviewer.id)
        ctx.session.add(profile)
    changed = tuple(
        name for name in PROFILE_FIELDS if created or getattr(before, name) != getattr(after, name)
    )
    profile.languages = list(after.languages)
    profile.themes = list(after.themes)
    profile.countries = list(after.countries)
    profile.capacity = after.capacity
    profile.available = after.available
    ctx.session.flush()
    if changed:
        audit.info(
            "user %s %s the reviewer profile of user %d: %s",
            _who(actor),
            "created" if created else "changed",
            reviewer.id,
            ", ".join(changed),
        )
    more_room = after.available and (
        created or not before.available or after.capacity > before.capacity
    )
    taken: tuple[Case, ...] = ()
    if more_room:
        taken = tuple(
            route_waiting_cases(ctx, reviewer, f"reviewer {reviewer.id} has room for cases")
        )
    return ProfileSaved(profile=profile, changed=changed, taken=taken)


# -- conflicts of interest ----------------------------------------------------------------------


def conflicts_of(ctx: Context, reviewer: User) -> list[Conflict]:
    """Every conflict the reviewer declared, standing or withdrawn, oldest first."""
    return list(
        ctx.session.scalars(
            select(Conflict)
            .where(Conflict.reviewer_id == reviewer.id)
            .order_by(Conflict.declared_on, Conflict.id)
        )
    )


def _open_case_ids(ctx: Context, reviewer_id: int) -> set[int]:
    return set(
        ctx.session.scalars(
            select(Assignment.case_id).where(
                Assignment.reviewer_id == reviewer_id, Assignment.ended_at.is_(None)
            )
        )
    )


@atomic
def declare_conflict(
    ctx: Context, actor: Actor, reviewer: User, subject: Company | Site, reason: str
) -> ConflictDeclared:
    """The reviewer (or an administrator for them) declares a conflict with a company or a
    site, with a reason; the day is today. The reviewer leaves every case it touches and
    routing finds someone else (`routing.declare_conflict`)."""
    _require_editor(actor, reviewer)
    if profile_of(ctx, reviewer) is None:
        raise InvalidInput({"reviewer": Code.NO_PROFILE})
    if len(reason.strip()) > REASON_MAX:
        raise InvalidInput.too_long("reason", REASON_MAX)
    before = _open_case_ids(ctx, reviewer.id)
    conflict = routing.declare_conflict(ctx, reviewer, subject, reason, actor)
    left_ids = sorted(before - _open_case_ids(ctx, reviewer.id))
    what = f"company {conflict.company_id}" if conflict.company_id else f"site {conflict.site_id}"
    audit.info(
        "user %s declared conflict %d of reviewer %d with %s; the reviewer left %d cases",
        _who(actor),
        conflict.id,
        reviewer.id,
        what,
        len(left_ids),
    )
    left = tuple(ctx.session.get_one(Case, case_id) for case_id in left_ids)
    return ConflictDeclared(conflict=conflict, left=left)


@atomic
def withdraw_conflict(
    ctx: Context, actor: Actor, conflict: Conflict, reason: str
) -> ConflictWithdrawn:
    """The reviewer withdraws a conflict they declared, with a reason. The record stays
    (`withdrawn_on`, `withdrawal_reason`); routing may choose the reviewer again for the
    company's or site's new cases, and waiting ones are routed again at once. Cases the
    reviewer left because of the conflict never come back to them."""
    reviewer = ctx.session.get_one(User, conflict.reviewer_id)
    if actor.role is not Role.REVIEWER or actor.user_id != reviewer.id:
        raise NotAllowed("only the reviewer withdraws a conflict they declared")
    if conflict.withdrawn_on is not None:
        raise InvalidInput({"conflict": Code.ALREADY_WITHDRAWN})
    text = reason.strip()
    if not text:
        raise InvalidInput({"reason": Code.REQUIRED})
    if len(text) > REASON_MAX:
        raise InvalidInput.too_long("reason", REASON_MAX)
    conflict.withdrawn_on = ctx.now().date()
    conflict.withdrawal_reason = text
    ctx.session.flush()
    audit.info("user %s withdrew conflict %d of reviewer %d", _who(actor), conflict.id, reviewer.id)
    taken = route_waiting_cases(ctx, reviewer, f"reviewer {reviewer.id} withdrew a conflict")
    return ConflictWithdrawn(conflict=conflict, taken=tuple(taken))


# -- cases waiting for a reviewer ----------------------------------------------------------------


def waiting_case_ids(ctx: Context, limit: int = WAITING_SCAN) -> list[int]:
    """Cases that have not ended with a lead or a second role empty, most urgent first
    (the queue's order: rank, then the earliest due time, then the oldest)."""
    active = (
        select(func.count(Assignment.id))
        .where(Assignment.case_id == Case.id, Assignment.ended_at.is_(None))
        .correlate(Case)
        .scalar_subquery()
    )
    return list(
        ctx.session.scalars(
            select(Case.id)
            .where(Case.stage.not_in(ENDED_STAGES), active < len(routing.ROLES))
            .order_by(Case.queue_rank, Case.next_due_at.is_(None), Case.next_due_at, Case.id)
            .limit(limit)
        )
    )


def route_waiting_cases(ctx: Context, reviewer: User, trigger: str) -> list[Case]:
    """Route again the waiting cases this reviewer may now take: as many as they have room
    for, most urgent first; returns the cases they were put on. The cases are locked in id
    order (the order every other change takes them in) before any is routed. Routing
    chooses as always: another reviewer who became eligible unnoticed (a case of theirs
    ended) may take a case instead, and this one keeps their room for the next."""
    found = routing.candidates(ctx, [reviewer.id])
    if not found:
        return []
    (candidate,) = found
    room = candidate.capacity - candidate.load
    if not candidate.available or room <= 0:
        return []
    eligible: list[int] = []
    for case_id in waiting_case_ids(ctx):
        case = ctx.session.get_one(Case, case_id)
        if routing.exclusion(candidate, routing.case_facts(ctx, case)) is None:
            eligible.append(case_id)
            if len(eligible) >= room:
                break
    if not eligible:
        return []
    order = {case_id: number for number, case_id in enumerate(eligible)}
    locked = ctx.session.scalars(
        select(Case)
        .where(Case.id.in_(eligible))
        .order_by(Case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    taken: list[Case] = []
    for case in sorted(locked, key=lambda row: order[row.id]):
        if len(taken) >= room:
            break
        result = routing.route_case(ctx, case, SYSTEM, reason=trigger)
        if any(row.reviewer_id == reviewer.id for row in result.assigned):
            taken.append(case)
    if taken:
        audit.info("reviewer %d was put on %d waiting cases (%s)", reviewer.id, len(taken), trigger)
    return taken
