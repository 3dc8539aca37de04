"""Key rotation (DESIGN §5): a new key-encryption key re-wraps every case's data key;
the data itself is never re-encrypted. Old key versions can be retired once no data key
uses them."""

from __future__ import annotations

from sqlalchemy import func, select

from grievance.crypto.keyring import Keyring
from grievance.models import DataKey
from grievance.services.context import Context


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
