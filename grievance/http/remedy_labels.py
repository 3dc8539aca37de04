"""The words of the remedy plan, for every page and channel that shows it: the remedy
types of the default policy (standards.md section 4), an item's status, the
complainant's answers. A type a mechanism adds itself shows with its policy label."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from grievance.models import ComplainantResponse, ConsultationAnswer, RemedyStatus

REMEDY_TYPE_NAMES: dict[str, Any] = {
    "apology": _l("Apology"),
    "restitution": _l("Restitution: the situation as it was before"),
    "rehabilitation": _l("Rehabilitation: medical, psychological, social or legal support"),
    "compensation_financial": _l("Financial compensation"),
    "compensation_non_financial": _l("Non-financial compensation"),
    "punitive_sanction": _l("Sanction"),
    "injunction": _l("Order to stop the harm"),
    "guarantee_of_non_repetition": _l("Guarantee that it does not happen again"),
    "environmental_restoration": _l("Restoring the environment"),
}

STATUS_NAMES: dict[RemedyStatus, Any] = {
    RemedyStatus.PROPOSED: _l("Proposed by the company"),
    RemedyStatus.PLANNED: _l("Planned"),
    RemedyStatus.IN_PROGRESS: _l("In progress"),
    RemedyStatus.COMPLETED: _l("Reported done"),
    RemedyStatus.ABANDONED: _l("Dropped"),
    RemedyStatus.DECLINED: _l("Not taken into the plan"),
}

ANSWER_NAMES: dict[ConsultationAnswer, Any] = {
    ConsultationAnswer.AGREE: _l("I agree with the plan"),
    ConsultationAnswer.DISAGREE: _l("I do not agree with the plan"),
    ConsultationAnswer.TALK: _l("I want to talk about the plan"),
}

RESPONSE_NAMES: dict[ComplainantResponse, Any] = {
    ComplainantResponse.CONFIRMED: _l("Yes, this happened"),
    ComplainantResponse.DISPUTED: _l("No, this did not happen"),
}


def type_name(code: str, policy_label: str = "") -> str:
    name = REMEDY_TYPE_NAMES.get(code)
    return str(name) if name is not None else (policy_label or code)


def answer_name(value: Any) -> str:
    try:
        return str(ANSWER_NAMES[ConsultationAnswer(value)])
    except ValueError:
        return str(value)
