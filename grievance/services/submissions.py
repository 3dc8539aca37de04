"""A filing sent twice files once (issue #15, item 1).

A reload of the page a complaint form was posted from, a double tap, a retry after a
response lost on a flaky connection: each sends the same filing again. The complaint form
carries a random token (a hidden field, new with each blank form) and the JSON API an
`Idempotency-Key` header; the channel hands it to `file_once`, which files the first time
and, after that, gives back the case already filed.

The person must still see their receipt code when the first response never reached
them, but a code is never stored in clear. So the code is kept, for `RECEIPT_SHOWN`
only, sealed with AES-256-GCM under a key derived from the sender's key *and* the key
ring's lookup key: the database alone opens nothing, and neither does the database with
the key ring; only someone who sends the same key (the same browser, the same partner
application) gets it back. After `RECEIPT_SHOWN` the sealed code is emptied (a second
sending then gets the case number only); after `KEPT` the row is deleted. Both happen
on the next filing, whenever it comes, and are checked on reading whatever the purge.

The key is found again by its HMAC (`key_hash`), scoped by who sent it (the web form; an
API client by its id; the anonymous API), so two partners' keys never meet. The filing's
own HMAC (`fingerprint`) tells a retry from another filing under a reused key: the API
refuses that (`KeyReused`); the web form makes the fingerprint part of its key, so a form
changed and sent again (back, edit, send) is a new complaint.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, update

from grievance.crypto.keyring import Purpose
from grievance.models import Case, Complainant, FilingSubmission
from grievance.services.context import Context

#: How long the same sender is shown the receipt code again.
RECEIPT_SHOWN = timedelta(minutes=15)
#: How long a second sending is recognised (and files nothing).
KEPT = timedelta(hours=24)
#: The longest key a sender may give (an `Idempotency-Key`).
KEY_MAX = 255
NONCE_BYTES = 12


class KeyReused(Exception):
    """The key was given before with another filing."""


@dataclass(frozen=True)
class Earlier:
    """The filing an earlier sending with the same key made."""

    case: Case
    complainant: Complainant
    #: The receipt code, while `RECEIPT_SHOWN` lasts; None after.
    receipt_code: str | None


def _mac(ctx: Context, label: bytes, value: bytes) -> bytes:
    return hmac.new(
        ctx.keyring.key(Purpose.LOOKUP), label + b"\x00" + value, hashlib.sha256
    ).digest()


def key_hash(ctx: Context, scope: str, key: str) -> bytes:
    return _mac(
        ctx, b"grievance/filing-key/v1", f"{scope}\x00{key}".encode("utf-8", "surrogatepass")
    )


def fingerprint(ctx: Context, parts: tuple[object, ...]) -> bytes:
    """The HMAC of what a filing says, written as `repr` of its parts."""
    return _mac(
        ctx, b"grievance/filing-fingerprint/v1", repr(parts).encode("utf-8", "surrogatepass")
    )


def _receipt_key(ctx: Context, scope: str, key: str) -> bytes:
    secret = f"{scope}\x00{key}".encode("utf-8", "surrogatepass")
    return _mac(ctx, b"grievance/filing-receipt/v1", secret)


def earlier(ctx: Context, scope: str, key: str, print_: bytes) -> Earlier | None:
    """The filing an earlier sending of this key made, if `KEPT` has not passed; raises
    `KeyReused` when that sending filed something else."""
    handle = key_hash(ctx, scope, key)
    row = ctx.session.scalar(select(FilingSubmission).where(FilingSubmission.key_hash == handle))
    now = ctx.now()
    if row is None or now - row.created_at >= KEPT:
        return None
    if not hmac.compare_digest(row.fingerprint, print_):
        raise KeyReused(scope)
    case = ctx.session.get_one(Case, row.case_id)
    complainant = ctx.session.scalars(
        select(Complainant).where(Complainant.case_id == case.id).order_by(Complainant.id)
    ).first()
    assert complainant is not None
    code = None
    if row.receipt_enc and now - row.created_at < RECEIPT_SHOWN:
        blob = row.receipt_enc
        try:
            code = (
                AESGCM(_receipt_key(ctx, scope, key))
                .decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], handle)
                .decode()
            )
        except InvalidTag:
            code = None
    return Earlier(case=case, complainant=complainant, receipt_code=code)


def remember(
    ctx: Context, scope: str, key: str, print_: bytes, case: Case, receipt_code: str
) -> None:
    """Keep the filing just made under its sender's key (in the filing's transaction: a
    second sending racing this one fails on the unique key and is rolled back)."""
    handle = key_hash(ctx, scope, key)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_receipt_key(ctx, scope, key)).encrypt(nonce, receipt_code.encode(), handle)
    ctx.session.add(
        FilingSubmission(
            key_hash=handle,
            fingerprint=print_,
            case_id=case.id,
            receipt_enc=nonce + sealed,
            created_at=ctx.now(),
        )
    )
    purge(ctx)


def purge(ctx: Context) -> None:
    """Empty the sealed codes older than `RECEIPT_SHOWN`, delete rows older than `KEPT`."""
    now = ctx.now()
    ctx.session.execute(
        update(FilingSubmission)
        .where(
            FilingSubmission.created_at < now - RECEIPT_SHOWN,
            FilingSubmission.receipt_enc.is_not(None),
        )
        .values(receipt_enc=None)
    )
    ctx.session.execute(delete(FilingSubmission).where(FilingSubmission.created_at < now - KEPT))
