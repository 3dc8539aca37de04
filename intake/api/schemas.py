"""The JSON intake API's request and response models (pydantic): what a partner sends and
gets back, and the OpenAPI document's schemas (`intake.api.openapi_document`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grievance.models import MECHANISM_CODE
from grievance.services.filing import MAX_LENGTHS, STATEMENT_MAX
from grievance.services.messages import MESSAGE_MAX
from intake.api import own_words


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=STATEMENT_MAX)


class Contact(_In):
    channel: Literal["none", "sms", "whatsapp", "email", "representative"] = "none"
    phone: str | None = Field(
        default=None,
        max_length=40,
        description="With its country code; without it, read as a number of the "
        "complaint's `country`, else of the mechanism's country.",
        examples=["+8801711000000", "+880 1711-000000"],
    )
    email: str | None = Field(default=None, max_length=254)


class Identity(_In):
    name: str = Field(default="", max_length=MAX_LENGTHS["name"])
    details: str = Field(default="", max_length=MAX_LENGTHS["details"])


class Consents(_In):
    share_identity_with_company: bool = False
    publish_summary: bool = False


class ComplaintIn(_In):
    # Its shape is checked before any query: PostgreSQL text cannot hold U+0000.
    mechanism: str = Field(max_length=8, pattern=f"^{MECHANISM_CODE.pattern}$", examples=["TEX"])
    language: str = Field(max_length=16, examples=["bn"])
    statement: str = Field(min_length=1, max_length=STATEMENT_MAX)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    site: str = Field(default="", max_length=MAX_LENGTHS["location"])
    companies: list[str] = Field(
        default_factory=list,
        max_length=20,
        description=f"At most {MAX_LENGTHS['companies']} characters in all, one per line.",
    )
    themes: list[str] = Field(default_factory=list, max_length=20)
    urgent: bool = False
    anonymity: Literal["anonymous", "confidential", "open"] = "anonymous"
    complainant_kind: Literal["affected", "representative", "union", "cso", "notifier"] = "affected"
    represents: str = Field(default="", max_length=MAX_LENGTHS["represents"])
    contact: Contact = Field(default_factory=Contact)
    identity: Identity = Field(default_factory=Identity)
    consents: Consents = Field(default_factory=Consents)


class ComplaintOut(BaseModel):
    reference: str
    receipt_code: str = Field(description="Shown once to the complainant; never stored.")


class FollowupIn(_In):
    receipt_code: str = Field(max_length=64)


class FollowupMessageIn(_In):
    receipt_code: str = Field(max_length=64)
    body: str = Field(min_length=1, max_length=MESSAGE_MAX)


class DeadlineOut(BaseModel):
    code: str
    due_at: datetime
    paused: bool


class EventOut(BaseModel):
    at: datetime
    kind: str
    stage_from: str | None
    stage_to: str | None
    details: dict[str, Any]


class MessageOut(BaseModel):
    at: datetime
    from_complainant: bool
    body: str
    translations: list[own_words.TranslationOut] = Field(default_factory=list)


class FollowupOut(BaseModel):
    reference: str
    stage: str
    waiting_for_complainant: bool
    deadlines: list[DeadlineOut]
    events: list[EventOut]
    messages: list[MessageOut]
    statement: str | None = Field(
        default=None, description="The complainant's own words; null once erased."
    )
    details: own_words.DetailsOut | None = None
    files: list[own_words.FileOut] = Field(default_factory=list)


class ErrorItem(BaseModel):
    path: str
    message: str


class ErrorOut(BaseModel):
    errors: list[ErrorItem]
