"""The demo's reference data: mechanisms with their policies, companies and their sites,
reviewers with profiles and declared conflicts, staff users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from grievance.crypto.secrets import hash_password
from grievance.demo.data import DEMO_PASSWORD
from grievance.models import (
    Company,
    CompanyKind,
    Conflict,
    Mechanism,
    MechanismPolicy,
    ReviewerProfile,
    Role,
    Site,
    User,
)
from grievance.services.context import Context


@dataclass
class Cast:
    """What the cases refer to, by their keys in `data.toml`."""

    mechanisms: dict[str, Mechanism] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    reviewers: dict[str, User] = field(default_factory=dict)


def load_reference(ctx: Context, data: dict[str, Any], today: datetime) -> Cast:
    cast = Cast()
    loader = _Reference(ctx, data, today, cast)
    loader.add_mechanisms()
    loader.add_companies()
    loader.add_people()
    return cast


class _Reference:
    def __init__(self, ctx: Context, data: dict[str, Any], today: datetime, cast: Cast) -> None:
        self.ctx = ctx
        self.data = data
        self.today = today
        self.mechanisms = cast.mechanisms
        self.companies = cast.companies
        self.sites = cast.sites
        self.reviewers = cast.reviewers

    def add_mechanisms(self) -> None:
        for entry in self.data["mechanism"]:
            mechanism = Mechanism(
                code=entry["code"],
                name=entry["name"],
                sector=entry["sector"],
                publishes_cases=entry.get("publishes_cases", True),
                created_at=self.today - timedelta(days=500),
            )
            self.ctx.session.add(mechanism)
            self.ctx.session.flush()
            self.ctx.session.add(
                MechanismPolicy(
                    mechanism_id=mechanism.id,
                    version=1,
                    overrides={
                        "country": entry["country"],
                        "languages": entry["languages"],
                        **({"mechanism": entry["public"]} if "public" in entry else {}),
                    },
                    note="The covenant's country, the languages it offers, its name in "
                    "them and its other ways in.",
                    created_at=mechanism.created_at,
                )
            )
            self.mechanisms[mechanism.code] = mechanism
        self.ctx.session.flush()

    def add_companies(self) -> None:
        for entry in self.data["company"]:
            company = Company(
                name=entry["name"],
                kind=CompanyKind(entry["kind"]),
                country=entry["country"],
                created_at=self.today - timedelta(days=480),
                mechanisms=[self.mechanisms[code] for code in entry.get("mechanisms", [])],
            )
            self.ctx.session.add(company)
            self.companies[entry["key"]] = company
            for site_entry in entry.get("site", []):
                site = Site(
                    company=company,
                    name=site_entry["name"],
                    kind=site_entry["kind"],
                    country=site_entry["country"],
                    region=site_entry.get("region", ""),
                )
                self.ctx.session.add(site)
                self.sites[site_entry["key"]] = site
        for entry in self.data["company"]:
            supplier = self.companies[entry["key"]]
            supplier.buyers = [self.companies[key] for key in entry.get("buyers", [])]
        self.ctx.session.flush()

    def _user(self, email: str, name: str, role: Role, **extra: Any) -> User:
        user = User(
            email=email,
            display_name=name,
            role=role,
            password_hash=hash_password(DEMO_PASSWORD, self.ctx.kdf),
            created_at=self.today - timedelta(days=450),
            **extra,
        )
        self.ctx.session.add(user)
        return user

    def add_people(self) -> None:
        for entry in self.data["reviewer"]:
            user = self._user(entry["email"], entry["name"], Role.REVIEWER)
            self.ctx.session.flush()
            self.ctx.session.add(
                ReviewerProfile(
                    user_id=user.id,
                    languages=entry["languages"],
                    themes=entry["themes"],
                    countries=entry["countries"],
                    capacity=entry["capacity"],
                )
            )
            self.ctx.session.flush()
            for conflict in entry.get("conflicts", []):
                self.ctx.session.add(
                    Conflict(
                        reviewer_id=user.id,
                        company_id=self.companies[conflict["company"]].id
                        if "company" in conflict
                        else None,
                        site_id=self.sites[conflict["site"]].id if "site" in conflict else None,
                        reason=conflict["reason"],
                        declared_on=date.fromisoformat(conflict["declared_on"]),
                    )
                )
            self.reviewers[entry["key"]] = user
        for entry in self.data["staff"]:
            role = Role(entry["role"])
            self._user(
                entry["email"],
                entry["name"],
                role,
                company=self.companies[entry["company"]] if role is Role.COMPANY else None,
                mechanisms=[self.mechanisms[code] for code in entry.get("mechanisms", [])],
            )
        self.ctx.session.flush()
