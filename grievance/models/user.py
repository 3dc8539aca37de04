"""Staff accounts and the independent reviewers' profiles."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grievance.models.base import Base, enum_type
from grievance.models.mail import EmailMode
from grievance.models.mechanism import secretariat_membership

if TYPE_CHECKING:
    from grievance.models.company import Company, Site
    from grievance.models.mechanism import Mechanism


class Role(enum.StrEnum):
    """Who acts. Staff users hold one of the last four; the first two never log in."""

    SYSTEM = "system"
    COMPLAINANT = "complainant"
    REVIEWER = "reviewer"
    COMPANY = "company"
    SECRETARIAT = "secretariat"
    ADMIN = "admin"


STAFF_ROLES = (Role.REVIEWER, Role.COMPANY, Role.SECRETARIAT, Role.ADMIN)


class User(Base):
    __tablename__ = "user"
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('reviewer', 'company', 'secretariat', 'admin')", name="staff_role"
        ),
        sa.CheckConstraint("(role = 'company') = (company_id IS NOT NULL)", name="company_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: TOTP secret, encrypted with the key ring (enrolled with the second factor).
    totp_secret_enc: Mapped[bytes | None]
    #: The last TOTP time step accepted: each code signs in once.
    totp_last_step: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("company.id"), index=True)
    #: Set by an administrator's reset: the next sign-in must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: Sessions that began before this moment are void (password change, reset, lock).
    sessions_valid_after: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    #: When notifications are e-mailed (urgent ones and security notices: always at once).
    email_mode: Mapped[EmailMode] = mapped_column(
        enum_type(EmailMode), default=EmailMode.IMMEDIATE, server_default=EmailMode.IMMEDIATE.value
    )
    #: The language of the e-mails the user gets (a language of the catalogs).
    language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")

    company: Mapped[Company | None] = relationship()
    mechanisms: Mapped[list[Mechanism]] = relationship(
        secondary=secretariat_membership, back_populates="secretariat"
    )
    reviewer_profile: Mapped[ReviewerProfile | None] = relationship(back_populates="user")


class RecoveryCode(Base):
    """A one-time code that stands in for the second factor; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins of one account from one kind of client: the clients that signed in
    to that account before (each by its device cookie) count apart from all others, so an
    attacker's failures never lock the account's owner out. Keys are HMACs: no e-mail
    address and no IP address is stored."""

    __tablename__ = "login_throttle"
    __table_args__ = (sa.UniqueConstraint("account_key", "client_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(sa.String(64))
    client_key: Mapped[str] = mapped_column(sa.String(64))
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class ReviewerProfile(Base):
    """What an independent reviewer covers; routing reads it."""

    __tablename__ = "reviewer_profile"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    languages: Mapped[list[str]] = mapped_column(default=list)
    themes: Mapped[list[str]] = mapped_column(default=list)
    countries: Mapped[list[str]] = mapped_column(default=list)
    capacity: Mapped[int] = mapped_column(default=10)
    available: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship(back_populates="reviewer_profile")
    conflicts: Mapped[list[Conflict]] = relationship(
        back_populates="reviewer", order_by="Conflict.declared_on"
    )


class Conflict(Base):
    """A reviewer's declared conflict of interest with a company or a site (R06).

    A withdrawn conflict stays, with the day and the reason it was withdrawn: the record
    of who declared what is never rewritten."""

    __tablename__ = "conflict"
    __table_args__ = (
        sa.CheckConstraint("company_id IS NOT NULL OR site_id IS NOT NULL", name="company_or_site"),
        sa.CheckConstraint(
            "withdrawn_on IS NULL OR withdrawal_reason IS NOT NULL", name="withdrawal_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("reviewer_profile.user_id"), index=True)
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("company.id"))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    declared_on: Mapped[date]
    withdrawn_on: Mapped[date | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.Text)

    reviewer: Mapped[ReviewerProfile] = relationship(back_populates="conflicts")
    company: Mapped[Company | None] = relationship()
    site: Mapped[Site | None] = relationship()
