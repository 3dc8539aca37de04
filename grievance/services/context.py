"""What every service needs, in one value: the session, the clock, the key ring."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.clock import Clock
from grievance.config import KdfParameters
from grievance.crypto.keyring import Keyring
from grievance.crypto.vault import Vault
from grievance.models import Case, Mechanism
from grievance.policies import Policy, policy_for


@dataclass
class Context:
    session: Session
    clock: Clock
    keyring: Keyring
    kdf: KdfParameters = field(default_factory=KdfParameters)

    def now(self) -> datetime:
        return self.clock.now()

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.session, self.keyring, self.clock.now)

    def lock_case(self, case: Case) -> Case:
        """Take the case's row lock (PostgreSQL) and reload it: changes to one case are
        serialised, so two reviewers acting at once cannot fork its log or stage."""
        statement = (
            select(Case)
            .where(Case.id == case.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.execute(statement).scalar_one()

    def policy(self, mechanism: Mechanism, version: int | None = None) -> Policy:
        """The policy a mechanism's version sets (the latest when `version` is None)."""
        chosen = None
        for row in mechanism.policies:
            if version is None or row.version == version:
                chosen = row
        if version and chosen is None:
            raise LookupError(f"mechanism {mechanism.code} has no policy version {version}")
        return policy_for(chosen.overrides if chosen else None)

    def case_policy(self, case: Case) -> Policy:
        return self.policy(case.mechanism, case.policy_version)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A savepoint: a service that fails half-way leaves nothing behind."""
        with self.session.begin_nested():
            yield


P = ParamSpec("P")
R = TypeVar("R")


def atomic(function: Callable[P, R]) -> Callable[P, R]:
    """Run a service function (whose first argument is the Context) in a savepoint."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = args[0]
        assert isinstance(ctx, Context)
        with ctx.atomic():
            return function(*args, **kwargs)

    return wrapper
