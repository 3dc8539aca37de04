"""What the company side's events of a case's log say (#13), registered with the other
renderers (`grievance.http.events`). A company's private events (its responses, reports,
conversation) have words for that company and the staff only: no other reader sees them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from grievance.http.events import COMPANY, COMPLAINANT, STAFF, Names, _named, _text, _with, renders
from grievance.http.labels import INVOLVEMENT_NAMES
from grievance.policies import default_policy
from grievance.services.casereads import EventView


def obligation_label(code: Any) -> str:
    """An obligation's name in the reader's language, from the default policy's table."""
    policy = default_policy()
    for rule in policy.involvement.values():
        for obligation in rule.obligation:
            if obligation.code == code:
                return str(gettext(obligation.label))
    return str(code)


@renders("involvement_proposed", audience=STAFF)
def _proposed(event: EventView, names: Names) -> str:
    text = gettext(
        "Proposed, waiting for a second reviewer: %(company)s, %(kind)s.",
        company=event.fields.get("company"),
        kind=_named(INVOLVEMENT_NAMES, event.fields.get("kind")),
    )
    return _with(text, _text(event.fields, "rationale"))


@renders("site_set", audience=STAFF)
def _site(event: EventView, names: Names) -> str:
    return str(gettext("Site of the harm: %(site)s", site=event.fields.get("site")))


@renders("involvement_rejected", audience=STAFF)
def _rejected(event: EventView, names: Names) -> str:
    text = gettext(
        "The proposed classification of %(company)s was not confirmed.",
        company=event.fields.get("company"),
    )
    return _with(text, _text(event.fields, "reason"))


@renders("company_responded", audience=(COMPANY, *STAFF))
def _responded(event: EventView, names: Names) -> str:
    return _with(
        gettext("The company responded to the complaint."), _text(event.fields, "response")
    )


@renders("classification_answered", audience=(COMPANY, *STAFF))
def _answered(event: EventView, names: Names) -> str:
    if event.fields.get("accepted"):
        text = gettext("The company accepted its classification.")
    else:
        text = gettext("The company contested its classification.")
    return _with(text, _text(event.fields, "reasons"))


@renders("company_message", audience=(COMPANY, *STAFF))
def _message(event: EventView, names: Names) -> str:
    if event.fields.get("from_company"):
        text = gettext("The company wrote:")
    else:
        text = gettext("The reviewers wrote:")
    return _with(text, _text(event.fields, "text"))


@renders("obligation_reported", audience=(COMPANY, *STAFF))
def _reported(event: EventView, names: Names) -> str:
    label = obligation_label(event.fields.get("code"))
    if event.fields.get("reported_status") == "fulfilled":
        text = gettext("Reported fulfilled: %(obligation)s.", obligation=label)
    else:
        text = gettext("Reported not fulfilled: %(obligation)s.", obligation=label)
    return _with(text, _text(event.fields, "reasons"))


@renders("obligation_verified", audience=(COMPLAINANT, COMPANY, *STAFF))
def _verified(event: EventView, names: Names) -> str:
    label = obligation_label(event.fields.get("code"))
    if event.fields.get("accepted"):
        text = gettext("The reviewers verified: %(obligation)s.", obligation=label)
    else:
        text = gettext("The reviewers sent back the report on: %(obligation)s.", obligation=label)
    return _with(text, _text(event.fields, "note"))


@renders("obligation_linked", audience=(COMPLAINANT, COMPANY, *STAFF))
def _linked(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "A remedy item now discharges: %(obligation)s.",
            obligation=obligation_label(event.fields.get("code")),
        )
    )


@renders("company_meeting_arranged", audience=(COMPLAINANT, COMPANY, *STAFF))
def _meeting(event: EventView, names: Names) -> str:
    return str(gettext("A company proposed a meeting."))
