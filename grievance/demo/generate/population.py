"""The mechanisms (`SYN01`, `SYN02`, …) and reviewers (`reviewer-0001@…`, with profiles)
that synthetic cases go to: found, or made when missing."""

from __future__ import annotations

import random
from collections.abc import Mapping

from sqlalchemy import select

from grievance.crypto.secrets import hash_password
from grievance.demo.generate.drafting import MechanismFacts, Reviewer, Weighted, policy_weights
from grievance.demo.generate.spec import (
    COUNTRIES,
    LANGUAGE_WEIGHTS,
    MECHANISM_PREFIX,
    OTHER_COUNTRIES,
    REVIEWER_PASSWORD,
    SECTORS,
    THEME_WEIGHTS,
    Report,
    reviewer_email,
)
from grievance.models import Mechanism, ReviewerProfile, Role, Stage, User
from grievance.policies import Policy
from grievance.services.context import Context


def shares(weights: Mapping[str, float], count: int) -> list[str]:
    """`count` values in proportion to their weights (largest remainders), in order."""
    total = sum(weights.values())
    quotas = {value: weight * count / total for value, weight in weights.items()}
    chosen = {value: int(quota) for value, quota in quotas.items()}
    rest = sorted(quotas, key=lambda value: (int(quotas[value]) - quotas[value], value))
    for value in rest[: count - sum(chosen.values())]:
        chosen[value] += 1
    return [value for value in weights for _ in range(chosen[value])]


def load_mechanisms(ctx: Context, count: int, report: Report) -> list[MechanismFacts]:
    codes = [f"{MECHANISM_PREFIX}{number:02d}" for number in range(1, count + 1)]
    found = {
        row.code: row
        for row in ctx.session.scalars(select(Mechanism).where(Mechanism.code.in_(codes)))
    }
    for number, code in enumerate(codes, start=1):
        if code not in found:
            found[code] = Mechanism(
                code=code,
                name=f"Synthetic mechanism {number:02d}",
                sector=SECTORS[(number - 1) % len(SECTORS)],
                publishes_cases=True,
                created_at=ctx.now(),
            )
            ctx.session.add(found[code])
            report.mechanisms_created.append(code)
    ctx.session.flush()
    report.mechanisms = codes
    result = []
    for code in codes:
        row = found[code]
        version = max((policy.version for policy in row.policies), default=0)
        policy = ctx.policy(row, version)
        result.append(
            MechanismFacts(
                row=row,
                id=row.id,
                code=code,
                policy=policy,
                policy_version=version,
                starting={stage: policy.time_limits_starting_on(stage) for stage in Stage},
                languages=Weighted(policy_weights(policy.languages, LANGUAGE_WEIGHTS)),
                themes=Weighted(policy_weights(sorted(policy.theme_codes), THEME_WEIGHTS)),
                urgent_themes=policy.urgent_themes,
            )
        )
    return result


def load_reviewers(
    ctx: Context, count: int, rng: random.Random, policy: Policy, report: Report
) -> list[Reviewer]:
    """`reviewer-0001@…` to `reviewer-{count}@…`, made when missing. Their first languages
    are shared out as the cases' languages are (so that loads can be even); most read
    English too."""
    emails = [reviewer_email(number) for number in range(1, count + 1)]
    found = {
        user.email: user for user in ctx.session.scalars(select(User).where(User.email.in_(emails)))
    }
    # Each reviewer's first language in proportion to the cases' languages.
    primaries = shares(policy_weights(policy.languages, LANGUAGE_WEIGHTS), count)
    rng.shuffle(primaries)
    themes = sorted(policy.theme_codes)
    password_hash = None
    users = []
    for number, email in enumerate(emails, start=1):
        user = found.get(email)
        if user is None:
            if password_hash is None:  # one Argon2id hash for all: they are synthetic
                password_hash = hash_password(REVIEWER_PASSWORD, ctx.kdf)
            primary = primaries[number - 1]
            user = User(
                email=email,
                display_name=f"Synthetic reviewer {number:04d}",
                role=Role.REVIEWER,
                password_hash=password_hash,
                active=True,
                must_change_password=False,
                created_at=ctx.now(),
                reviewer_profile=ReviewerProfile(
                    languages=sorted({primary, "en"} if rng.random() < 0.8 else {primary}),
                    themes=sorted(rng.sample(themes, k=min(3, len(themes)))),
                    countries=sorted(set(COUNTRIES.get(primary, OTHER_COUNTRIES)[:2])),
                    capacity=10,
                    available=True,
                ),
            )
            ctx.session.add(user)
            report.reviewers_created += 1
        users.append(user)
    ctx.session.flush()
    report.reviewers = len(users)
    reviewers = []
    for user in users:
        profile = user.reviewer_profile
        if user.role is not Role.REVIEWER or profile is None:
            raise ValueError(f"{user.email} exists and is not a reviewer")
        reviewers.append(
            Reviewer(
                user.id,
                frozenset(profile.languages),
                frozenset(profile.themes),
                frozenset(profile.countries),
                profile.capacity,
            )
        )
    return reviewers
