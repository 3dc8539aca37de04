"""Companies that adhere to a mechanism, and the sites where harm can happen."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grievance.models.base import Base, enum_type
from grievance.models.mechanism import Mechanism


class CompanyKind(enum.StrEnum):
    BRAND = "brand"
    SUPPLIER = "supplier"


company_mechanism = sa.Table(
    "company_mechanism",
    Base.metadata,
    sa.Column("company_id", sa.ForeignKey("company.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("mechanism_id", sa.ForeignKey("mechanism.id", ondelete="CASCADE"), primary_key=True),
)

supply_relation = sa.Table(
    "supply_relation",
    Base.metadata,
    sa.Column("buyer_id", sa.ForeignKey("company.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("supplier_id", sa.ForeignKey("company.id", ondelete="CASCADE"), primary_key=True),
)


class Company(Base):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[CompanyKind] = mapped_column(enum_type(CompanyKind))
    country: Mapped[str] = mapped_column(sa.String(2))
    created_at: Mapped[datetime]

    mechanisms: Mapped[list[Mechanism]] = relationship(secondary=company_mechanism)
    sites: Mapped[list[Site]] = relationship(back_populates="company", order_by="Site.name")
    suppliers: Mapped[list[Company]] = relationship(
        secondary=supply_relation,
        primaryjoin=lambda: Company.id == supply_relation.c.buyer_id,
        secondaryjoin=lambda: Company.id == supply_relation.c.supplier_id,
        back_populates="buyers",
    )
    buyers: Mapped[list[Company]] = relationship(
        secondary=supply_relation,
        primaryjoin=lambda: Company.id == supply_relation.c.supplier_id,
        secondaryjoin=lambda: Company.id == supply_relation.c.buyer_id,
        back_populates="suppliers",
    )


class Site(Base):
    """A factory, mill, quarry or farm of a supplier."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    country: Mapped[str] = mapped_column(sa.String(2))
    region: Mapped[str] = mapped_column(sa.String(120), default="")

    company: Mapped[Company] = relationship(back_populates="sites")
