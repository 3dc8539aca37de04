"""Receipt codes and their schemes (DESIGN §5): how a code is hashed, issued and found.

A code's lookup key is Argon2id of its HMAC under the key ring's receipt-code key (the
pepper), with the salt and cost of a `ReceiptScheme`, one for the whole deployment.

- **One hash per attempt, whatever the number of mechanisms.** The scheme is the
  deployment's, not a mechanism's: the hash of a typed code is looked up in every
  mechanism at once. An attempt costs one Argon2id hash per scheme version that holds
  codes: one, until `GRIEVANCE_KDF_*` change or the pepper is rotated; each such change
  that issues codes adds one, for as long as codes hashed with it exist (a code is
  never stored, so it cannot be hashed again). The number is that of the distinct
  (cost, pepper) combinations ever used, whatever the number of mechanisms or cases.
- **Versioned.** New codes use the scheme that matches the settings and the key ring's
  current pepper (`scheme_for_new_codes`); the first filing after a change makes it
  (a new version, with a new salt). A process with the other settings, during a rolling
  restart, keeps using the version that matches its own: no new version for each flip.
- **Peppered.** The HMAC key lives in the key ring, not in the database: a stolen
  database alone cannot confirm a single code.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from grievance.config import KdfParameters
from grievance.crypto.keyring import KeyringError, Purpose
from grievance.crypto.secrets import new_receipt_code, receipt_lookup
from grievance.models import Case, Complainant, Mechanism, ReceiptScheme
from grievance.services.context import Context

log = logging.getLogger(__name__)

SALT_BYTES = 16


def new_receipt_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def kdf_of(scheme: ReceiptScheme) -> KdfParameters:
    return KdfParameters(
        time_cost=scheme.time_cost,
        memory_cost_kib=scheme.memory_cost_kib,
        parallelism=scheme.parallelism,
    )


def hash_code(ctx: Context, scheme: ReceiptScheme, code: str) -> str:
    """The lookup key of a (normalised) code under one scheme: one Argon2id hash."""
    pepper = ctx.keyring.key(Purpose.RECEIPT, scheme.pepper_version)
    return receipt_lookup(code, pepper, scheme.salt, kdf_of(scheme))


def scheme_for_new_codes(ctx: Context) -> ReceiptScheme:
    """The scheme of the settings' cost and the key ring's current pepper: the latest
    version that has them, or a new version (with a new salt) if none has."""
    kdf, pepper = ctx.kdf, ctx.keyring.current_version(Purpose.RECEIPT)
    matching = (
        select(ReceiptScheme)
        .where(
            ReceiptScheme.time_cost == kdf.time_cost,
            ReceiptScheme.memory_cost_kib == kdf.memory_cost_kib,
            ReceiptScheme.parallelism == kdf.parallelism,
            ReceiptScheme.pepper_version == pepper,
        )
        .order_by(ReceiptScheme.version.desc())
        .limit(1)
    )
    while (found := ctx.session.scalar(matching)) is None:
        latest = ctx.session.scalar(select(func.max(ReceiptScheme.version)))
        scheme = ReceiptScheme(
            version=(latest or 0) + 1,
            time_cost=kdf.time_cost,
            memory_cost_kib=kdf.memory_cost_kib,
            parallelism=kdf.parallelism,
            salt=new_receipt_salt(),
            pepper_version=pepper,
            created_at=ctx.now(),
        )
        try:
            with ctx.session.begin_nested():
                ctx.session.add(scheme)
        except IntegrityError:
            continue  # another process made this version, or this combination, just now
        log.info(
            "receipt codes: scheme version %d (t=%d, m=%d KiB, p=%d, pepper %d)",
            scheme.version,
            kdf.time_cost,
            kdf.memory_cost_kib,
            kdf.parallelism,
            pepper,
        )
        return scheme
    return found


def schemes_in_use(ctx: Context) -> list[ReceiptScheme]:
    """The scheme versions that hold at least one code (an index probe each)."""
    holds_codes = exists().where(Complainant.receipt_scheme_version == ReceiptScheme.version)
    return list(
        ctx.session.scalars(
            select(ReceiptScheme).where(holds_codes).order_by(ReceiptScheme.version)
        )
    )


def _lookups(ctx: Context, code: str, schemes: Iterable[ReceiptScheme]) -> dict[str, int]:
    """The code's lookup key under each scheme (one Argon2id hash each)."""
    found: dict[str, int] = {}
    for scheme in schemes:
        try:
            found[hash_code(ctx, scheme, code)] = scheme.version
        except KeyringError:
            log.error(
                "receipt codes: scheme version %d holds codes but the key ring has no pepper"
                " version %d: those codes do not open their cases",
                scheme.version,
                scheme.pepper_version,
            )
    return found


def find(ctx: Context, code: str, mechanism: Mechanism | None = None) -> Complainant | None:
    """The complainant a normalised code belongs to (in `mechanism` only, if given)."""
    lookups = _lookups(ctx, code, schemes_in_use(ctx))
    if not lookups:
        return None
    query = select(Complainant).where(Complainant.receipt_lookup.in_(lookups))
    if mechanism is not None:
        query = query.join(Case, Case.id == Complainant.case_id).where(
            Case.mechanism_id == mechanism.id
        )
    for complainant in ctx.session.scalars(query.order_by(Complainant.id)):
        # the hash must be the one of the row's own scheme
        if lookups[complainant.receipt_lookup] == complainant.receipt_scheme_version:
            return complainant
    return None


def fresh_receipt(ctx: Context) -> tuple[str, str, int]:
    """A new code that opens nothing yet, its lookup key and its scheme version."""
    scheme = scheme_for_new_codes(ctx)
    others = [s for s in schemes_in_use(ctx) if s.version != scheme.version]
    for _ in range(5):
        code = new_receipt_code()
        lookup = hash_code(ctx, scheme, code)
        # the code must open nothing under the other versions either (one hash each)
        lookups = [lookup, *_lookups(ctx, code, others)]
        taken = ctx.session.scalar(select(exists().where(Complainant.receipt_lookup.in_(lookups))))
        if not taken:
            return code, lookup, scheme.version
    raise RuntimeError("could not draw an unused receipt code")  # pragma: no cover


def pepper_versions_in_use(ctx: Context) -> set[int]:
    """The receipt-code key versions that codes still need."""
    return {scheme.pepper_version for scheme in schemes_in_use(ctx)}
