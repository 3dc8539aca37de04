"""Filings already made, so that a form or a request sent twice files once (issue #15)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base


class FilingSubmission(Base):
    """One filing, found again by the key its sender gave (the complaint form's hidden
    token with what the form said, or an API request's `Idempotency-Key`): a second
    sending with the same key gets the same case instead of filing again.

    `key_hash` is an HMAC of the key under the key ring's lookup key, never the key;
    `fingerprint` an HMAC of what was filed, to tell a retry from another request
    reusing its key. `receipt_enc` is the case's receipt code sealed with AES-256-GCM
    under a key derived from the sender's key *and* the key ring: the database alone, or
    the database with the key ring, opens none; it is emptied after
    `services.submissions.RECEIPT_SHOWN` and the row deleted after
    `services.submissions.KEPT`."""

    __tablename__ = "filing_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    fingerprint: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    receipt_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)
