"""Filing a case: the one way every channel turns a person's words into a case."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grievance.crypto.secrets import normalise_receipt_code
from grievance.models import (
    Anonymity,
    ApiClient,
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
from grievance.services import (
    caselog,
    contacts,
    deadlines,
    events,
    queue,
    receipts,
    routing,
    submissions,
)
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed
from grievance.services.phones import InvalidPhoneNumber, is_region, parse_phone
from grievance.services.references import next_reference
from grievance.services.reviewers import country_codes
from grievance.services.texts import normalise, text_problem

#: Consents asked separately (R15, R22); anything else is refused.
SHARE_IDENTITY = "share_identity_with_company"
CONSENT_PURPOSES = (SHARE_IDENTITY, "publish_summary")
REPRESENTING_KINDS = (ComplainantKind.REPRESENTATIVE, ComplainantKind.UNION, ComplainantKind.CSO)
STATEMENT_MAX = 20_000
EMAIL_MAX = 254
#: The most characters of each text of a filing, once normalised (`texts.normalise`).
MAX_LENGTHS = {
    "statement": STATEMENT_MAX,
    "location": 500,
    "companies": 500,
    "occurred": 200,
    "represents": 500,
    "name": 200,
    "details": 2000,
}
#: Complainants file themselves (web, SMS, API as `system`); staff record complaints
#: received by phone, letter or in person on the complainant's behalf.
FILING_ROLES = (Role.COMPLAINANT, Role.SYSTEM, Role.REVIEWER, Role.SECRETARIAT)
#: Staff who record a complaint received another way, and the ways they record.
STAFF_RECORDERS = (Role.REVIEWER, Role.SECRETARIAT)
STAFF_CHANNELS = (Channel.PHONE, Channel.LETTER, Channel.IN_PERSON)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Why routing runs when a case is filed (the `trigger` of its `reviewer_assigned`).
ROUTED_ON_FILING = "case filed"


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
    #: The partner application that files it through the API (authenticated by its key).
    api_client: ApiClient | None = None


@dataclass(frozen=True)
class FiledCase:
    case: Case
    complainant: Complainant
    #: Shown once to the complainant, never stored.
    receipt_code: str


def phone_region(
    ctx: Context, mechanism: Mechanism, country: str | None = None, site_id: int | None = None
) -> str | None:
    """The country a phone number written without its country code is from: the known
    site's, else the country the complaint names, else the mechanism's (its policy's
    `country`); None when none is known (then a number needs its country code)."""
    site = ctx.session.get(Site, site_id) if site_id is not None else None
    for code in (site.country if site else None, country, ctx.policy(mechanism).country):
        if is_region(code):
            return code
    return None


def contact_phone(ctx: Context, filing: Filing) -> str:
    """The complainant's phone number in E.164, read in `phone_region`; raises
    `InvalidPhoneNumber` (field `contact_address`) when it is not one."""
    region = phone_region(ctx, filing.mechanism, filing.country, filing.site_id)
    try:
        return parse_phone(filing.complainant.contact_address, region)
    except InvalidPhoneNumber as refused:
        raise InvalidPhoneNumber(refused.problem, field="contact_address") from None


def _too_long(
    errors: dict[str, Code], limits: dict[str, dict[str, int]], name: str, text: str
) -> None:
    if len(normalise(text)) > MAX_LENGTHS[name]:
        errors[name] = Code.TOO_LONG
        limits[name] = {"max": MAX_LENGTHS[name]}


def _validate(ctx: Context, filing: Filing, actor: Actor) -> InvalidInput | None:
    """Every rule of a filing, whichever channel it came through: what is wrong, by field."""
    policy = ctx.policy(filing.mechanism)
    errors: dict[str, Code] = {}
    limits: dict[str, dict[str, int]] = {}
    reasons: dict[str, str] = {}
    if not normalise(filing.statement):
        errors["statement"] = Code.REQUIRED
    for name in ("statement", "location", "companies", "occurred"):
        _too_long(errors, limits, name, getattr(filing, name))
    if filing.language not in policy.languages:
        errors["language"] = Code.NOT_OFFERED
    if set(filing.themes) - policy.theme_codes:
        errors["themes"] = Code.UNKNOWN
    if filing.country is not None and filing.country not in country_codes():
        errors["country"] = Code.UNKNOWN
    if filing.site_id is not None and ctx.session.get(Site, filing.site_id) is None:
        errors["site"] = Code.UNKNOWN
    if filing.received_at is not None and filing.received_at > ctx.now():
        errors["received_at"] = Code.RECEIVED_IN_FUTURE
    if actor.role in STAFF_RECORDERS and filing.channel not in STAFF_CHANNELS:
        errors["channel"] = Code.NOT_A_STAFF_CHANNEL
    person = filing.complainant
    if person.kind in REPRESENTING_KINDS and not normalise(person.represents):
        errors["represents"] = Code.REQUIRED
    for name in ("represents", "name", "details"):
        _too_long(errors, limits, name, getattr(person, name))
    if person.anonymity is Anonymity.ANONYMOUS and (
        normalise(person.name) or normalise(person.details)
    ):
        errors["anonymity"] = Code.NAMED_WHEN_ANONYMOUS
    address = person.contact_address.strip()
    if person.contact_channel in contacts.PHONE_CONTACTS:
        try:
            contact_phone(ctx, filing)
        except InvalidPhoneNumber as refused:
            errors.update(refused.errors)
            reasons.update(refused.reasons)
    elif person.contact_channel is ContactChannel.EMAIL:
        if EMAIL_PATTERN.match(address) is None:
            errors["contact_address"] = Code.INVALID_EMAIL
        elif len(address) > EMAIL_MAX:
            errors["contact_address"] = Code.TOO_LONG
            limits["contact_address"] = {"max": EMAIL_MAX}
    elif address:
        errors["contact_address"] = Code.CONTACT_WITHOUT_CHANNEL
    if set(person.consents) - set(CONSENT_PURPOSES):
        errors["consents"] = Code.UNKNOWN
    # Last: a text with a character no text may hold is refused for that, whatever else.
    for name, text in _texts(filing).items():
        if text_problem(text) is not None:
            errors[name] = Code.INVALID_CHARACTER
            limits.pop(name, None)
            reasons.pop(name, None)
    if person.consents.get(SHARE_IDENTITY) and person.anonymity is not Anonymity.OPEN:
        errors[f"consents.{SHARE_IDENTITY}"] = Code.SHARE_REQUIRES_OPEN
    return InvalidInput(errors, limits, reasons) if errors else None


def _texts(filing: Filing) -> dict[str, str]:
    """Every text of a filing, by the field the refusals name."""
    person = filing.complainant
    return {
        "statement": filing.statement,
        "location": filing.location,
        "companies": filing.companies,
        "occurred": filing.occurred,
        "represents": person.represents,
        "name": person.name,
        "details": person.details,
        "contact_address": person.contact_address,
    }


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
    `recording_mechanisms` only. A partner application (`Filing.api_client`) files through
    the API only, with a key not revoked; the first event names it."""
    if actor.role not in FILING_ROLES:
        raise NotAllowed(f"{actor.role} cannot file a case")
    if actor.role in STAFF_RECORDERS and filing.mechanism not in recording_mechanisms(ctx, actor):
        raise NotAllowed(f"{actor.role} does not record complaints for {filing.mechanism.code}")
    partner = filing.api_client
    if partner is not None and (filing.channel is not Channel.API or not partner.active):
        raise NotAllowed("only an active API client files, and through the API")
    refused = _validate(ctx, filing, actor)
    if refused is not None:
        raise refused

    now = ctx.now()
    received_at = filing.received_at or now
    mechanism = filing.mechanism
    policy_version = max((p.version for p in mechanism.policies), default=0)
    policy = ctx.policy(mechanism, policy_version)
    # The slow parts first: the receipt code's Argon2id hash and the reviewers' loads.
    # From `next_reference` to the commit the mechanism's counter row stays locked, and
    # the other filings of the mechanism wait.
    receipt = _fresh_receipt(ctx)
    pool = routing.candidates(ctx)
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
    case.statement_enc = vault.seal(case.id, "statement", normalise(filing.statement))
    for name in ("location", "companies", "occurred"):
        text = normalise(getattr(filing, name))
        if text:
            setattr(case, f"{name}_enc", vault.seal(case.id, name, text))

    person = filing.complainant
    if person.contact_channel in contacts.PHONE_CONTACTS:
        person = replace(person, contact_address=contact_phone(ctx, filing))
    complainant, code = _add_complainant(ctx, case, person, filing.language, now, receipt)

    changes = deadlines.on_stage_entered(ctx.session, case, policy, Stage.RECEIVED, received_at)
    filed = events.case_filed(
        reference=case.reference,
        mechanism=mechanism.code,
        themes=case.theme_codes,
        country=case.country,
        policy_version=policy_version,
        channel=case.channel,
        language=case.language,
        urgent=case.urgent,
        complainant_kind=complainant.kind,
        anonymity=complainant.anonymity,
        recorded_by_staff=actor.role in STAFF_RECORDERS,
        deadlines=changes.payload(),
        api_client_id=partner.id if partner else None,
        api_client=f"{partner.name} ({partner.organisation})" if partner else "",
    )
    caselog.record(ctx.session, case, filed, actor, now)
    routing.route_case(ctx, case, SYSTEM, reason=ROUTED_ON_FILING, pool=pool)
    ctx.session.flush()
    return FiledCase(case=case, complainant=complainant, receipt_code=code)


def _add_complainant(
    ctx: Context,
    case: Case,
    person: ComplainantDetails,
    language: str,
    now: datetime,
    receipt: tuple[str, str, int],
) -> tuple[Complainant, str]:
    vault = ctx.vault
    code, lookup, scheme = receipt
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
        text = normalise(getattr(person, name))
        if text:
            setattr(complainant, f"{name}_enc", vault.seal(case.id, f"{prefix}.{name}", text))
    address = person.contact_address.strip()
    if person.contact_channel in contacts.PHONE_CONTACTS:
        complainant.phone_lookup = contacts.phone_handle(ctx, address)  # E.164 by now
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


@dataclass(frozen=True)
class FiledOnce:
    """What `file_once` gives: the case, its complainant and receipt code (None when
    a second sending comes after `submissions.RECEIPT_SHOWN`), and whether this sending
    filed it or an earlier one did."""

    case: Case
    complainant: Complainant
    receipt_code: str | None
    replayed: bool


def _fingerprint(ctx: Context, filing: Filing) -> bytes:
    """What the person said (not the page's language: a retry from a page in another
    language is the same complaint)."""
    person = filing.complainant
    return submissions.fingerprint(
        ctx,
        (
            filing.mechanism.code,
            filing.channel.value,
            normalise(filing.statement),
            tuple(sorted(set(filing.themes))),
            filing.country,
            filing.site_id,
            normalise(filing.location),
            normalise(filing.companies),
            normalise(filing.occurred),
            filing.urgent,
            person.anonymity.value,
            person.kind.value,
            person.contact_channel.value,
            person.contact_address.strip(),
            normalise(person.name),
            normalise(person.details),
            normalise(person.represents),
            tuple(sorted(person.consents.items())),
        ),
    )


def filing_fingerprint(ctx: Context, filing: Filing) -> str:
    """What a filing says, as a keyed hash (hex): a web form makes it part of its key."""
    return _fingerprint(ctx, filing).hex()


@atomic
def file_once(ctx: Context, filing: Filing, actor: Actor, *, scope: str, key: str) -> FiledOnce:
    """`file_case`, once per `key` of a sender (`scope`): a second sending of the same
    filing with the same key gets the case the first one filed, and its receipt code for
    a few minutes (`services.submissions`). Raises `submissions.KeyReused` when the key
    came before with another filing."""
    print_ = _fingerprint(ctx, filing)
    before = submissions.earlier(ctx, scope, key, print_)
    if before is not None:
        return FiledOnce(before.case, before.complainant, before.receipt_code, replayed=True)
    try:
        with ctx.atomic():
            filed = file_case(ctx, filing, actor)
            submissions.remember(ctx, scope, key, print_, filed.case, filed.receipt_code)
            ctx.session.flush()
    except IntegrityError:  # the same sending, at the same moment, filed it first
        before = submissions.earlier(ctx, scope, key, print_)
        if before is None:
            raise
        return FiledOnce(before.case, before.complainant, before.receipt_code, replayed=True)
    return FiledOnce(filed.case, filed.complainant, filed.receipt_code, replayed=False)


def filed_before(ctx: Context, scope: str, key: str, fingerprint_hex: str) -> FiledOnce | None:
    """What an earlier sending of `key` filed (its receipt code while it is still shown),
    for a page that shows it again; None when nothing was, or it is forgotten."""
    try:
        print_ = bytes.fromhex(fingerprint_hex)
        before = submissions.earlier(ctx, scope, key, print_)
    except (ValueError, submissions.KeyReused):
        return None
    if before is None:
        return None
    return FiledOnce(before.case, before.complainant, before.receipt_code, replayed=True)
