"""Per-case data keys, wrapped by the key ring, and the receipt-code schemes (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base


class DataKey(Base):
    """The key that encrypts one case's identities and words.

    Deleting the row erases them for good; the case log survives.
    """

    __tablename__ = "data_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), unique=True)
    #: Version of the key-encryption key in the key ring that wraps this key.
    kek_version: Mapped[int]
    wrapped: Mapped[bytes] = mapped_column(sa.LargeBinary(128))
    created_at: Mapped[datetime]
    rewrapped_at: Mapped[datetime | None]


class ReceiptScheme(Base):
    """One version of how receipt codes are hashed, for the whole deployment: the
    Argon2id cost and salt, and the version of the key ring's receipt-code key (the
    pepper). Each complainant records the version its code was hashed with
    (`Complainant.receipt_scheme_version`); new codes use the version that matches the
    settings of the moment (`GRIEVANCE_KDF_*`) and the key ring's current pepper, made
    when first needed (`services.receipts`). A code is never stored, so rows are never
    changed: an older version keeps opening the codes hashed with it.

    One scheme for every mechanism: a code's hash is the lookup key across all of them,
    so an attempt costs one hash per version holding codes, not one per mechanism.
    Separate from the staff passwords' cost, which each password hash carries itself.
    """

    __tablename__ = "receipt_scheme"
    #: One version per combination: two processes making it at once make one.
    __table_args__ = (
        sa.UniqueConstraint(
            "time_cost",
            "memory_cost_kib",
            "parallelism",
            "pepper_version",
            name="uq_receipt_scheme_parameters",
        ),
    )

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    time_cost: Mapped[int]
    memory_cost_kib: Mapped[int]
    parallelism: Mapped[int]
    salt: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    #: Version of the key ring's receipt-code key (`Purpose.RECEIPT`).
    pepper_version: Mapped[int]
    created_at: Mapped[datetime]
