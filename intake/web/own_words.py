"""The complainant's own words and the details they gave, as the follow-up page shows
them back (issue #15, item 3): under the form's own questions, in the page's language;
their words as written, marked with the language they were written in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel import Locale
from flask_babel import get_locale, gettext

from grievance.http.events import describe
from grievance.http.forms import ANONYMITY_CHOICES, CONTACT_CHOICES, ComplaintForm
from grievance.policies import Policy
from grievance.services.casereads import COMPLAINANT, ComplainantCaseView, PartyTranslation


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    #: The language the answer is written in when it is the person's own words (their
    #: text, as written); None for what the page itself says (a choice, a country).
    language: str | None = None


def country_name(code: str | None) -> str:
    if not code:
        return ""
    locale = get_locale() or Locale.parse("en")
    return str(locale.territories.get(code, code))


QUESTIONS = ("statement", "themes", "country", "location", "occurred", "companies")


def _questions() -> dict[str, str]:
    """The complaint form's own questions (its fields' labels), in the page's language."""
    names = (*QUESTIONS, "anonymity", "contact")
    return {name: str(getattr(ComplaintForm, name).args[0]) for name in names}


def answers(view: ComplainantCaseView, policy: Policy) -> list[Answer]:
    """What they told us, question by question; nothing for a question left empty."""
    words = view.words
    if words is None:
        return []
    form = _questions()
    # policy labels are extracted for translation by grievance.policies.extract
    themes = {theme.code: str(gettext(theme.label)) for theme in policy.themes}
    site = f"{view.site.name}, {view.site.company}" if view.site else ""
    anonymity = dict(ANONYMITY_CHOICES).get(view.anonymity.value if view.anonymity else "")
    contact = dict(CONTACT_CHOICES).get(view.contact_channel.value if view.contact_channel else "")
    rows = [
        Answer(form["statement"], words.statement, view.language),
        Answer(form["themes"], ", ".join(themes.get(code, code) for code in view.facts.themes)),
        Answer(form["country"], country_name(view.facts.country)),
        Answer(form["location"], words.location, view.language),
        Answer(form["location"], site),
        Answer(form["occurred"], words.occurred, view.language),
        Answer(form["companies"], words.companies, view.language),
        Answer(form["anonymity"], str(anonymity or "")),
        Answer(form["contact"], str(contact or "")),
    ]
    return [row for row in rows if row.answer]


@dataclass(frozen=True)
class Line:
    """One line of the case's history: what happened, in the page's language, and the
    reviewers' reasons as they wrote them, with the language they wrote them in, and the
    translations of them the reviewers attached for the complainant."""

    at: datetime
    text: str
    reason: str = ""
    reason_language: str = ""
    translations: tuple[PartyTranslation, ...] = ()


def timeline(view: ComplainantCaseView) -> list[Line]:
    lines = []
    for event in view.events:
        text = describe(event, COMPLAINANT)
        reason = str(event.fields.get("reason") or "")
        if reason and text.endswith(reason):
            head = text[: -len(reason)].rstrip()
            language = str(event.fields.get("reason_language") or "")
            translated = view.reason_translations.get(event.seq, ())
            lines.append(Line(event.at, head, reason, language, translated))
        else:
            lines.append(Line(event.at, text))
    return lines
