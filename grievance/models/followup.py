"""The complainant's follow-up sessions, kept on the server."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base


class FollowupSession(Base):
    """One sign-in to the follow-up pages with a receipt code. The browser's cookie holds
    only a random token; this row holds its SHA-256, never the token, so a copy of the
    database opens no session. It ends after 30 minutes of silence, two hours after it
    began, or at sign-out (`revoked_at`); the worker deletes ended rows
    (`services.followup_sessions`)."""

    __tablename__ = "followup_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32), unique=True)
    complainant_id: Mapped[int] = mapped_column(sa.ForeignKey("complainant.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
