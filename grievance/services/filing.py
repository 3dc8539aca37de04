"""Filing a case: the one way every channel turns a person's words into a case."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from grievance.crypto.secrets import normalise_receipt_code
from grievance.models import (
    Anonymity,
    Case,
    CaseTheme,
    Channel,
    Complainant,
    ComplainantKind,
    Consent,
    ContactChannel,
    Mechanism,
    ReviewerProfile,
    Role,
    Site,
    Stage,
    User,
)
from grievance.models.mechanism import secretariat_membership
from grievance.services import caselog, deadlines, queue, receipts, routing
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context, atomic
from grievance.services.errors import InvalidInput, NotAllowed
from grievance.services.references import next_reference

#: Consents asked separately (R15, R22); anything else is refused.
CONSENT_PURPOSES = ("share_identity_with_company", "publish_summary")
REPRESENTING_KINDS = (ComplainantKind.REPRESENTATIVE, ComplainantKind.UNION, ComplainantKind.CSO)
STATEMENT_MAX = 20_000
#: Complainants file themselves (web, SMS, API as `system`); staff record complaints
#: received by phone, letter or in person on the complainant's behalf.
FILING_ROLES = (Role.COMPLAINANT, Role.SYSTEM, Role.REVIEWER, Role.SECRETARIAT)
#: Staff who record a complaint received another way, and the ways they record.
STAFF_RECORDERS = (Role.REVIEWER, Role.SECRETARIAT)
STAFF_CHANNELS = (Channel.PHONE, Channel.LETTER, Channel.IN_PERSON)
PHONE_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ComplainantDetails:
    anonymity: Anonymity
    kind: ComplainantKind = ComplainantKind.AFFECTED
    contact_channel: ContactChannel = ContactChannel.NONE
    contact_address: str = ""
    name: str = ""
    details: str = ""
    represents: str = ""
    consents: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Filing:
    mechanism: Mechanism
    channel: Channel
    language: str
    statement: str
    complainant: ComplainantDetails
    themes: Sequence[str] = ()
    country: str | None = None
    site_id: int | None = None
    location: str = ""
    companies: str = ""
    occurred: str = ""
    urgent: bool = False
    #: When the complaint arrived, if earlier than its recording (a letter, a call).
    received_at: datetime | None = None


@dataclass(frozen=True)
class FiledCase:
    case: Case
    complainant: Complainant
    #: Shown once to the complainant, never stored.
    receipt_code: str


def normalise_text(text: str) -> str:
    """NFC, and nothing else: every code point the person wrote is kept."""
    return unicodedata.normalize("NFC", text).strip()


def normalise_phone(raw: str) -> str:
    """E.164: '+880 1711-000001' and '00880 1711 000001' become '+8801711000001'.

    Without an international prefix the number cannot be known: the result is ''.
    """
    text = raw.strip()
    digits = "".join(str(int(char)) for char in text if char.isdecimal())
    if text.startswith("+"):
        return "+" + digits
    if text.startswith("00"):
        return "+" + digits[2:]
    return ""


def _validate(ctx: Context, filing: Filing) -> dict[str, str]:
    policy = ctx.policy(filing.mechanism)
    errors: dict[str, str] = {}
    statement = normalise_text(filing.statement)
    if not statement:
        errors["statement"] = "Tell us what happened."
    elif len(statement) > STATEMENT_MAX:
        errors["statement"] = f"Please keep it under {STATEMENT_MAX} characters."
    if filing.language not in policy.languages:
        errors["language"] = "This mechanism does not offer this language."
    unknown = sorted(set(filing.themes) - policy.theme_codes)
    if unknown:
        errors["themes"] = "Unknown theme: " + ", ".join(unknown)
    if filing.country is not None and re.fullmatch(r"[A-Z]{2}", filing.country) is None:
        errors["country"] = "Choose a country."
    if filing.site_id is not None and ctx.session.get(Site, filing.site_id) is None:
        errors["site"] = "Unknown site."
    person = filing.complainant
    if person.kind in REPRESENTING_KINDS and not normalise_text(person.represents):
        errors["represents"] = "Say whom you represent."
    if person.anonymity is Anonymity.ANONYMOUS and (person.name.strip() or person.details.strip()):
        errors["anonymity"] = "An anonymous complaint cannot carry a name."
    address = person.contact_address.strip()
    if person.contact_channel in (ContactChannel.SMS, ContactChannel.WHATSAPP):
        if PHONE_PATTERN.match(normalise_phone(address)) is None:
            errors["contact_address"] = "Give a phone number with its country code."
    elif person.contact_channel is ContactChannel.EMAIL:
        if EMAIL_PATTERN.match(address) is None:
            errors["contact_address"] = "Give an e-mail address."
    elif address:
        errors["contact_address"] = "Choose how we may contact you."
    unknown_consents = sorted(set(person.consents) - set(CONSENT_PURPOSES))
    if unknown_consents:
        errors["consents"] = "Unknown consent: " + ", ".join(unknown_consents)
    return errors


def recording_mechanisms(ctx: Context, actor: Actor) -> list[Mechanism]:
    """The mechanisms a staff user records complaints for (received by phone, letter or in
    person), by code.

    A secretariat user: the mechanisms they run. A reviewer: every mechanism, once they
    have a reviewer profile. The reviewers are one roster: routing draws the reviewers of
    every mechanism's cases from all active reviewers with a profile (`routing.candidates`),
    so a reviewer in the roster serves every mechanism, and one without a profile (an
    account not set up as a reviewer yet) serves none. Anyone else, or an inactive user:
    none."""
    if actor.role not in STAFF_RECORDERS or actor.user_id is None:
        return []
    user = ctx.session.get(User, actor.user_id)
    if user is None or not user.active or user.role is not actor.role:
        return []
    query = select(Mechanism).order_by(Mechanism.code)
    if actor.role is Role.SECRETARIAT:
        query = query.join(
            secretariat_membership, secretariat_membership.c.mechanism_id == Mechanism.id
        ).where(secretariat_membership.c.user_id == user.id)
    elif ctx.session.get(ReviewerProfile, user.id) is None:
        return []
    return list(ctx.session.scalars(query))


@atomic
def file_case(ctx: Context, filing: Filing, actor: Actor) -> FiledCase:
    """File a case: number it, seal the person's words and identity under a new data key,
    open its first deadlines, write the first event of its log and route it to its
    reviewers (urgent cases: the reviewers are told at once). Staff record complaints
    received by phone, letter or in person (`STAFF_CHANNELS`), for the mechanisms of
    `recording_mechanisms` only."""
    if actor.role not in FILING_ROLES:
        raise NotAllowed(f"{actor.role} cannot file a case")
    if actor.role in STAFF_RECORDERS and filing.mechanism not in recording_mechanisms(ctx, actor):
        raise NotAllowed(f"{actor.role} does not record complaints for {filing.mechanism.code}")
    errors = _validate(ctx, filing)
    if actor.role in STAFF_RECORDERS and filing.channel not in STAFF_CHANNELS:
        errors["channel"] = "Staff record complaints received by phone, letter or in person."
    if errors:
        raise InvalidInput(errors)

    now = ctx.now()
    received_at = min(filing.received_at or now, now)
    mechanism = filing.mechanism
    policy_version = max((p.version for p in mechanism.policies), default=0)
    policy = ctx.policy(mechanism, policy_version)
    case = Case(
        reference=next_reference(ctx.session, mechanism, received_at.year),
        mechanism=mechanism,
        policy_version=policy_version,
        channel=filing.channel,
        language=filing.language,
        country=filing.country,
        site_id=filing.site_id,
        urgent=filing.urgent,
        stage=Stage.RECEIVED,
        stage_entered_at=received_at,
        received_at=received_at,
        statement_enc=b"",
        log_head=caselog.GENESIS,
        created_at=now,
        updated_at=now,
        themes=[CaseTheme(theme=code) for code in sorted(set(filing.themes))],
    )
    queue.refresh_queue_rank(case, policy)
    ctx.session.add(case)
    ctx.session.flush()

    vault = ctx.vault
    vault.create_data_key(case.id)
    case.statement_enc = vault.seal(case.id, "statement", normalise_text(filing.statement))
    for name in ("location", "companies", "occurred"):
        text = normalise_text(getattr(filing, name))
        if text:
            setattr(case, f"{name}_enc", vault.seal(case.id, name, text))

    complainant, code = _add_complainant(ctx, case, filing.complainant, filing.language, now)

    changes = deadlines.on_stage_entered(ctx.session, case, policy, Stage.RECEIVED, received_at)
    caselog.append(
        ctx.session,
        case,
        "case_filed",
        actor,
        now,
        {
            "reference": case.reference,
            "mechanism": mechanism.code,
            "themes": case.theme_codes,
            "country": case.country,
            "policy_version": policy_version,
            "channel": case.channel.value,
            "language": case.language,
            "urgent": case.urgent,
            "complainant_kind": complainant.kind.value,
            "anonymity": complainant.anonymity.value,
            "recorded_by_staff": actor.role in (Role.REVIEWER, Role.SECRETARIAT),
            **changes.payload(),
        },
        stage_to=Stage.RECEIVED,
    )
    routing.route_case(ctx, case, SYSTEM, reason="case filed")
    ctx.session.flush()
    return FiledCase(case=case, complainant=complainant, receipt_code=code)


def _add_complainant(
    ctx: Context, case: Case, person: ComplainantDetails, language: str, now: datetime
) -> tuple[Complainant, str]:
    vault = ctx.vault
    code, lookup, scheme = _fresh_receipt(ctx)
    complainant = Complainant(
        case_id=case.id,
        anonymity=person.anonymity,
        kind=person.kind,
        language=language,
        contact_channel=person.contact_channel,
        receipt_lookup=lookup,
        receipt_scheme_version=scheme,
        created_at=now,
    )
    ctx.session.add(complainant)
    ctx.session.flush()
    prefix = f"complainant.{complainant.id}"
    for name in ("name", "details", "represents"):
        text = normalise_text(getattr(person, name))
        if text:
            setattr(complainant, f"{name}_enc", vault.seal(case.id, f"{prefix}.{name}", text))
    address = person.contact_address.strip()
    if person.contact_channel in (ContactChannel.SMS, ContactChannel.WHATSAPP):
        address = normalise_phone(address)
        complainant.phone_lookup = vault.lookup_hash("phone", address)
    if address:
        complainant.contact_enc = vault.seal(case.id, f"{prefix}.contact", address)
    for purpose in CONSENT_PURPOSES:
        if purpose in person.consents:
            ctx.session.add(
                Consent(
                    complainant_id=complainant.id,
                    purpose=purpose,
                    granted=bool(person.consents[purpose]),
                    recorded_at=now,
                )
            )
    return complainant, code


def _fresh_receipt(ctx: Context) -> tuple[str, str, int]:
    """A new code, its lookup key and its receipt scheme version (`services.receipts`)."""
    return receipts.fresh_receipt(ctx)


def find_by_receipt(ctx: Context, mechanism: Mechanism, code: str) -> Complainant | None:
    """The complainant of a normalised code among `mechanism`'s cases."""
    return receipts.find(ctx, code, mechanism)


def find_complainant(ctx: Context, typed_code: str) -> Complainant | None:
    """The complainant a receipt code belongs to, in whichever mechanism, as typed (spaces,
    dashes, any script's digits); None for anything else. One Argon2id hash per receipt
    scheme version holding codes, whatever the number of mechanisms."""
    code = normalise_receipt_code(typed_code)
    if code is None:
        return None
    return receipts.find(ctx, code)
