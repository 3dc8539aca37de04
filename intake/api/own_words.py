"""The complainant's own words, the details they gave and their files, in the follow-up
API's answer (issue #15, item 3), as `casereads.complainant_view` gives them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from grievance.services.casereads import ComplainantCaseView, PartyMessage


class DetailsOut(BaseModel):
    language: str = Field(description="The language the complaint is written in.")
    themes: list[str]
    country: str | None
    location: str
    occurred: str
    companies: str
    site: str | None
    anonymity: str | None
    contact_channel: str | None


class FileOut(BaseModel):
    name: str
    size: int
    content_type: str
    created_at: datetime


class TranslationOut(BaseModel):
    """A translation the reviewers attached to their message or reasons, for the
    complainant."""

    language: str
    text: str


class EventOut(BaseModel):
    at: datetime
    kind: str
    stage_from: str | None
    stage_to: str | None
    details: dict[str, Any]
    #: The reviewers' translations of the reasons in `details`, for the complainant.
    translations: list[TranslationOut] = Field(default_factory=list)


def translations_out(message: PartyMessage) -> list[TranslationOut]:
    return [TranslationOut(language=t.language, text=t.text) for t in message.translations]


def reasons_out(view: ComplainantCaseView, seq: int) -> list[TranslationOut]:
    """The translations of an event's reasons (`details.reason`)."""
    found = view.reason_translations.get(seq, ())
    return [TranslationOut(language=t.language, text=t.text) for t in found]


def own_words(view: ComplainantCaseView) -> dict[str, Any]:
    """`statement`, `details` and `files` of `FollowupOut`."""
    words = view.words
    if words is None:
        return {"statement": None, "details": None, "files": []}
    site = f"{view.site.name}, {view.site.company}" if view.site else None
    return {
        "statement": words.statement,
        "details": DetailsOut(
            language=view.language,
            themes=list(view.facts.themes),
            country=view.facts.country,
            location=words.location,
            occurred=words.occurred,
            companies=words.companies,
            site=site,
            anonymity=view.anonymity.value if view.anonymity else None,
            contact_channel=view.contact_channel.value if view.contact_channel else None,
        ),
        "files": [
            FileOut(
                name=file.name,
                size=file.size,
                content_type=file.content_type,
                created_at=file.created_at,
            )
            for file in view.files
        ],
    }
