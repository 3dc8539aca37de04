"""Policies as data (DESIGN invariant 6).

The shipped `default.toml` holds the defaults of the standards; a mechanism overrides
parts of it with versioned `MechanismPolicy` rows. `load_policy` merges and validates,
and fails with a `PolicyError` whose message names the file and the field.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grievance.models.case import Stage
from grievance.models.involvement import InvolvementKind, Leverage

DEFAULT_POLICY_FILE = Path(__file__).with_name("default.toml")

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


class PolicyError(ValueError):
    """A policy file or override is not valid; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeLimit(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    label: str = Field(min_length=1)
    days: int | None = Field(default=None, gt=0, le=3660)
    months: int | None = Field(default=None, gt=0, le=120)
    starts_on: Stage
    ends_on: tuple[Stage, ...] = ()
    ends_on_events: tuple[str, ...] = ()
    recurring: bool = False
    reminder_share: float = Field(default=0.7, gt=0, lt=1)
    floor: bool = False
    pausable: bool = True
    max_extension_days: int = Field(default=90, ge=0, le=366)
    source: str = ""
    enabled: bool = True

    @model_validator(mode="after")
    def _one_duration(self) -> Self:
        if (self.days is None) == (self.months is None):
            raise ValueError("give exactly one of 'days' and 'months'")
        if not self.ends_on and not self.ends_on_events:
            raise ValueError("give 'ends_on' or 'ends_on_events': a time limit must be able to end")
        if self.starts_on in self.ends_on:
            raise ValueError("a time limit cannot end in the stage that starts it")
        return self

    def length_in_days(self) -> float:
        """An approximate length, to compare limits (a month counts 30.44 days)."""
        return float(self.days) if self.days is not None else (self.months or 0) * 30.44


class ObligationRule(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    label: str = Field(min_length=1)
    requirement: Literal[
        "required", "required_if_held", "required_if_lacking", "conditional", "voluntary"
    ]
    #: Days the company has to meet it, from its classification (None: no due date).
    days: int | None = Field(default=None, gt=0, le=3660)
    source: str = ""
    #: Where the due date comes from.
    days_source: str = ""

    @property
    def binding(self) -> bool:
        """Whether it can become an `Obligation` the company reports on."""
        return self.requirement != "voluntary"

    def applies(self, leverage: Leverage) -> bool:
        """Whether it binds a company with this leverage: `required_if_held` binds only
        when the leverage is held, `required_if_lacking` (and `conditional`, weighed when
        the leverage cannot be increased) only when it is lacking; while it is unknown,
        neither does (the reviewers find out first)."""
        return self.requirement in _BINDS.get(leverage, ())


_BINDS = {
    Leverage.HELD: ("required", "required_if_held"),
    Leverage.LACKING: ("required", "required_if_lacking", "conditional"),
    Leverage.UNKNOWN: ("required",),
}


class InvolvementRule(_Strict):
    label: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    csddd_term: str = ""
    obligation: tuple[ObligationRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        _require_unique([rule.code for rule in self.obligation], "obligation")
        return self


class Reclassification(_Strict):
    triggers: tuple[str, ...] = ()


class CompanyTimeLimits(_Strict):
    """The companies' own time limits in a case (their deadlines are swept like the
    case's: reminded at `reminder_share` of the time, escalated when missed)."""

    #: Days a company named in a case has to respond to the complaint.
    response_days: int = Field(default=30, gt=0, le=366)
    response_source: str = ""
    reminder_share: float = Field(default=0.7, gt=0, lt=1)


class RemedyType(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    label: str = Field(min_length=1)
    source: str = ""
    enabled: bool = True


class Theme(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    label: str = Field(min_length=1)
    urgent: bool = False
    enabled: bool = True


class Language(_Strict):
    code: str = Field(pattern=r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")
    name: str = Field(min_length=1)
    rtl: bool = False


class Calendar(_Strict):
    business_days: bool = False
    timezone: str = "Europe/Amsterdam"
    weekend: tuple[int, ...] = (6, 7)
    holidays: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _valid(self) -> Self:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        if any(day not in range(1, 8) for day in self.weekend):
            raise ValueError("weekend days are ISO weekdays, 1 (Monday) to 7 (Sunday)")
        if len(set(self.weekend)) >= 7:
            raise ValueError("a week needs at least one business day")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_business_day(self, day: date) -> bool:
        return day.isoweekday() not in self.weekend and day not in self.holidays


class Retention(_Strict):
    identity_days_after_close: int = Field(gt=0)


class Review(_Strict):
    effectiveness_review_months: int = Field(gt=0, le=60)


class Registry(_Strict):
    """What the public case registry shows of a published case (issue 16, item 1)."""

    #: "none": no company is named; "involved": the companies in the case, with how
    #: they are involved (cause, contribute, linked) once classified.
    companies: Literal["none", "involved"] = "none"


#: A text a mechanism gives in several languages: language code → text.
Texts = dict[str, str]
PHONE_NUMBER = r"^\+[1-9][0-9]{6,14}$"


def in_language(texts: Mapping[str, str], code: str) -> str:
    """The text in `code` (or its base language: "pt" for "pt_BR"), else in English, else
    the first given; "" when none is."""
    for candidate in (code, code.split("_", 1)[0], "en"):
        if texts.get(candidate):
            return texts[candidate]
    return next((text for text in texts.values() if text), "")


class MechanismData(_Strict):
    """What a mechanism tells the public about itself, each text in as many languages as
    it has (shown in the page's language, else English): its name, and the other ways to
    complain to it (issue #15, item 2)."""

    name: Texts = {}
    #: Numbers people write to by SMS or WhatsApp, and a phone line (E.164, "+8801...").
    sms: str = Field(default="", pattern=f"^$|{PHONE_NUMBER}")
    whatsapp: str = Field(default="", pattern=f"^$|{PHONE_NUMBER}")
    phone: str = Field(default="", pattern=f"^$|{PHONE_NUMBER}")
    #: When the phone line is answered, in words ("Monday to Friday, 9:00-17:00 CET").
    phone_hours: Texts = {}
    postal_address: Texts = {}

    def name_in(self, code: str, fallback: str) -> str:
        return in_language(self.name, code) or fallback

    @property
    def other_ways(self) -> bool:
        return bool(self.sms or self.whatsapp or self.phone or self.postal_address)


class Policy(_Strict):
    version: Literal[1]
    #: Where the mechanism is (ISO 3166-1 alpha-2): a phone number written without its
    #: country code is read as one of this country's (`filing.phone_region`).
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    languages: tuple[str, ...] = Field(min_length=1)
    calendar: Calendar = Calendar()
    retention: Retention
    review: Review
    registry: Registry = Registry()
    time_limit: tuple[TimeLimit, ...]
    involvement: dict[InvolvementKind, InvolvementRule]
    reclassification: Reclassification = Reclassification()
    company: CompanyTimeLimits = CompanyTimeLimits()
    remedy_type: tuple[RemedyType, ...] = Field(min_length=1)
    theme: tuple[Theme, ...] = Field(min_length=1)
    language: tuple[Language, ...] = Field(min_length=1)
    mechanism: MechanismData = MechanismData()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name in ("time_limit", "remedy_type", "theme", "language"):
            _require_unique([entry.code for entry in getattr(self, name)], name)
        missing = set(InvolvementKind) - set(self.involvement)
        if missing:
            raise ValueError(
                "involvement: missing " + ", ".join(sorted(kind.value for kind in missing))
            )
        if self.country is not None and self.country not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"country: {self.country} is not a country's code")
        known = {language.code for language in self.language}
        unknown = [code for code in self.languages if code not in known]
        if unknown:
            raise ValueError(f"languages: {', '.join(unknown)} not listed under [[language]]")
        return self

    # -- lookups -------------------------------------------------------------------
    @property
    def time_limits(self) -> tuple[TimeLimit, ...]:
        return tuple(limit for limit in self.time_limit if limit.enabled)

    def time_limits_starting_on(self, stage: Stage) -> list[TimeLimit]:
        return [limit for limit in self.time_limits if limit.starts_on == stage]

    def time_limit_for(self, code: str) -> TimeLimit | None:
        return next((limit for limit in self.time_limits if limit.code == code), None)

    @property
    def themes(self) -> tuple[Theme, ...]:
        return tuple(theme for theme in self.theme if theme.enabled)

    @property
    def theme_codes(self) -> frozenset[str]:
        return frozenset(theme.code for theme in self.themes)

    @property
    def urgent_themes(self) -> frozenset[str]:
        return frozenset(theme.code for theme in self.themes if theme.urgent)

    @property
    def remedy_types(self) -> tuple[RemedyType, ...]:
        return tuple(remedy for remedy in self.remedy_type if remedy.enabled)

    @property
    def remedy_codes(self) -> frozenset[str]:
        return frozenset(remedy.code for remedy in self.remedy_types)

    def obligations_for(self, kind: InvolvementKind) -> tuple[ObligationRule, ...]:
        return self.involvement[kind].obligation

    def obligations_binding(
        self, kind: InvolvementKind, leverage: Leverage
    ) -> tuple[ObligationRule, ...]:
        """The obligations a company of this involvement and leverage must meet."""
        return tuple(
            rule for rule in self.obligations_for(kind) if rule.binding and rule.applies(leverage)
        )

    def language_named(self, code: str) -> Language | None:
        return next((language for language in self.language if language.code == code), None)


def _require_unique(codes: list[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what}: code {code!r} appears twice")
        seen.add(code)


# -- merging ------------------------------------------------------------------------


def merge(base: Any, override: Any) -> Any:
    """Merge an override into a base document (see the head of default.toml)."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if _is_coded_list(base) and _is_coded_list(override):
        by_code = {entry["code"]: entry for entry in base}
        order = [entry["code"] for entry in base]
        for entry in override:
            code = entry["code"]
            if code in by_code:
                by_code[code] = merge(by_code[code], entry)
            else:
                by_code[code] = copy.deepcopy(entry)
                order.append(code)
        return [by_code[code] for code in order]
    return copy.deepcopy(override)


def _is_coded_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(entry, Mapping) and "code" in entry for entry in value)
    )


# -- loading ------------------------------------------------------------------------


def read_policy_file(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise PolicyError(f"policy file {path}: not found") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"policy file {path}: not valid TOML: {error}") from None


def load_policy(
    path: Path = DEFAULT_POLICY_FILE, overrides: Mapping[str, Any] | None = None
) -> Policy:
    """Read a policy file, apply a mechanism's overrides, and validate the result."""
    document = read_policy_file(path)
    source = str(path)
    if overrides:
        document = merge(document, overrides)
        source += " with the mechanism's overrides"
    try:
        policy = Policy.model_validate(document)
    except ValidationError as error:
        raise PolicyError(f"policy {source}: {_describe(error)}") from None
    if overrides:
        _check_floors(Policy.model_validate(read_policy_file(path)), policy, source)
    return policy


def _check_floors(base: Policy, merged: Policy, source: str) -> None:
    for limit in base.time_limit:
        if not limit.floor:
            continue
        changed = merged.time_limit_for(limit.code)
        if changed is None:
            raise PolicyError(f"policy {source}: time_limit {limit.code!r} is a legal floor")
        if changed.length_in_days() > limit.length_in_days():
            raise PolicyError(
                f"policy {source}: time_limit {limit.code!r} is a legal floor and may be "
                "shortened, never lengthened"
            )


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{location}: {item['msg']}")
    return "; ".join(problems)


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    return load_policy()


def policy_for(overrides: Mapping[str, Any] | None) -> Policy:
    """The effective policy for a mechanism policy version's overrides (cached)."""
    if not overrides:
        return default_policy()
    return _policy_with(json.dumps(overrides, sort_keys=True))


@lru_cache(maxsize=64)
def _policy_with(overrides_json: str) -> Policy:
    return load_policy(overrides=json.loads(overrides_json))
