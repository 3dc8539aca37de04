"""A mechanism as the public pages show it: its name and other ways in, from its policy
(`policies.MechanismData`), in the page's language (issue #15, items 2 and 4)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale

from grievance.models import Mechanism
from grievance.policies import MechanismData, in_language
from grievance.services.context import Context


@dataclass(frozen=True)
class Shown:
    """A mechanism's public data in one language."""

    code: str
    name: str
    sms: str
    whatsapp: str
    phone: str
    phone_hours: str
    postal_address: str

    @property
    def other_ways(self) -> bool:
        return bool(self.sms or self.whatsapp or self.phone or self.postal_address)


def _language() -> str:
    return str(get_locale() or "en")


def name_of(ctx: Context, mechanism: Mechanism) -> str:
    """The mechanism's name in the page's language (its registered name if none)."""
    return ctx.policy(mechanism).mechanism.name_in(_language(), mechanism.name)


def shown(ctx: Context, mechanism: Mechanism) -> Shown:
    data: MechanismData = ctx.policy(mechanism).mechanism
    language = _language()
    return Shown(
        code=mechanism.code,
        name=data.name_in(language, mechanism.name),
        sms=data.sms,
        whatsapp=data.whatsapp,
        phone=data.phone,
        phone_hours=in_language(data.phone_hours, language),
        postal_address=in_language(data.postal_address, language),
    )
