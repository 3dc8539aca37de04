"""Key rotation (DESIGN §5), purpose by purpose (`keyring.Purpose`).

- Key-encryption keys: a new version re-wraps every case's data key (`rewrap_all`);
  the data itself is never re-encrypted. Old versions are retired once no data key
  uses them (`retire_old_versions`).
- Sealing keys (`SEALING_PURPOSES`: staff TOTP seeds, SMS rows, the outbox of texts and
  the mail outbox's addresses): a new version re-seals every value sealed with an older
  one (`reseal_all`, over the `SealedColumn`s of each purpose); old versions are retired
  once no value uses them.
- The receipt pepper: a code is never stored, so it cannot be hashed again. A new
  version applies to the codes issued from then on (a new receipt scheme,
  `services.receipts`); a version is retired only when no scheme holding codes uses it.
- The lookup key (phone numbers, staff e-mail addresses) is not rotated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from grievance.crypto import accounts, derived
from grievance.crypto.keyring import SEALING_PURPOSES, Keyring, Purpose, purpose_of
from grievance.crypto.vault import TamperedCiphertext
from grievance.models import DataKey, MailMessage, OutboundMessage, User
from grievance.services import mailbox, outbox, receipts
from grievance.services.accounts.second_factor import TOTP_FIELD
from grievance.services.context import Context

log = logging.getLogger(__name__)


def rewrap_all(ctx: Context, batch_size: int = 500) -> int:
    """Wrap every data key with the key ring's current key. A job: commits per batch."""
    done = 0
    while True:
        rows = ctx.session.scalars(
            select(DataKey)
            .where(DataKey.kek_version != ctx.keyring.current)
            .order_by(DataKey.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return done
        for row in rows:
            done += ctx.vault.rewrap(row)
        ctx.session.commit()


def versions_in_use(ctx: Context) -> dict[int, int]:
    """How many data keys each key-encryption key version wraps."""
    rows = ctx.session.execute(
        select(DataKey.kek_version, func.count()).group_by(DataKey.kek_version)
    ).all()
    return {int(row[0]): int(row[1]) for row in rows}


def retire_old_versions(ctx: Context) -> Keyring:
    """The key ring without the versions no data key uses any more."""
    in_use = versions_in_use(ctx)
    oldest = min([*in_use, ctx.keyring.current])
    return ctx.keyring.without_versions_below(oldest)


# -- sealing keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class SealedColumn:
    """A column sealed with one purpose's key (`grievance.crypto.derived`): the purpose's
    `info` and the associated data of a row's value."""

    info: bytes
    column: InstrumentedAttribute[Any]
    associated: Callable[[Any], str]

    @property
    def purpose(self) -> Purpose:
        return purpose_of(self.info)


#: The sealed columns of the services' own tables (each with its module's own `info`
#: and associated data); the SMS channel's are added by the `rotate-keys` command.
SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(
        accounts._INFO,
        User.totp_secret_enc,
        lambda user: accounts._associated_data(user.id, TOTP_FIELD),
    ),
    SealedColumn(
        outbox._INFO,
        OutboundMessage.address_enc,
        lambda row: outbox._associated(row.id, "address"),
    ),
    SealedColumn(
        outbox._INFO,
        OutboundMessage.body_enc,
        lambda row: outbox._associated(row.id, "body"),
    ),
    SealedColumn(mailbox._INFO, MailMessage.address_enc, lambda row: mailbox._associated(row.id)),
)


def _current_prefix(ctx: Context, purpose: Purpose) -> bytes:
    return derived.FORMAT + ctx.keyring.current_version(purpose).to_bytes(2, "big")


def reseal_all(
    ctx: Context, columns: Sequence[SealedColumn] = SEALED_COLUMNS, batch_size: int = 500
) -> dict[Purpose, int]:
    """Seal again, with its purpose's current key, every value sealed with an older one.
    A job: commits per batch; a second run finds nothing left to do. A value that does
    not open is left as it is (and logged): its version then stays in use."""
    done = {spec.purpose: 0 for spec in columns}
    for spec in columns:
        model, name = spec.column.class_, spec.column.key
        current = _current_prefix(ctx, spec.purpose)
        last = 0
        while True:
            rows = ctx.session.scalars(
                select(model)
                .where(
                    model.id > last,
                    func.length(spec.column) > 0,
                    func.substr(spec.column, 1, 3) != current,
                )
                .order_by(model.id)
                .limit(batch_size)
                .with_for_update(of=model)
            ).all()
            if not rows:
                break
            for row in rows:
                last = row.id
                try:
                    sealed = derived.reseal(
                        ctx.keyring, spec.info, spec.associated(row), getattr(row, name)
                    )
                except TamperedCiphertext:
                    log.warning(
                        "%s.%s of row %d does not open: left as it is",
                        model.__tablename__,
                        name,
                        row.id,
                    )
                    continue
                if sealed is not None:
                    setattr(row, name, sealed)
                    done[spec.purpose] += 1
            ctx.session.commit()
    return done


def sealed_versions_in_use(
    ctx: Context, columns: Iterable[SealedColumn] = SEALED_COLUMNS
) -> dict[Purpose, set[int]]:
    """The key versions each sealing purpose's stored values are sealed with."""
    used: dict[Purpose, set[int]] = {}
    for spec in columns:
        prefixes = ctx.session.scalars(
            select(func.substr(spec.column, 1, 3)).where(func.length(spec.column) > 0).distinct()
        )
        versions = {derived.sealed_version(bytes(prefix)) for prefix in prefixes}
        used.setdefault(spec.purpose, set()).update(v for v in versions if v is not None)
    return used


def rotated_keyring(
    keyring: Keyring, *, receipt_pepper: bool = False, checkpoint_key: bool = False
) -> Keyring:
    """A new key-encryption key and a new key for each sealing purpose (and for the
    receipt pepper and the checkpoint signing key, if asked): each the current one of
    its purpose."""
    ring = keyring.with_new_version()
    extra = [
        *([Purpose.RECEIPT] if receipt_pepper else []),
        *([Purpose.CHECKPOINT] if checkpoint_key else []),
    ]
    for purpose in (*SEALING_PURPOSES, *extra):
        ring = ring.with_new_key(purpose)
    return ring


def retire_unused_keys(ctx: Context, columns: Iterable[SealedColumn] = SEALED_COLUMNS) -> Keyring:
    """The key ring without the versions nothing uses any more: key-encryption keys no
    data key is wrapped with, sealing keys no stored value is sealed with, peppers no
    receipt scheme holding codes uses. Current versions always stay; so does the lookup
    key."""
    ring = retire_old_versions(ctx)
    used = sealed_versions_in_use(ctx, columns)
    for purpose in SEALING_PURPOSES:
        ring = ring.keeping(purpose, used.get(purpose, set()))
    return ring.keeping(Purpose.RECEIPT, receipts.pepper_versions_in_use(ctx))
