"""The names the company side's pages give to statuses and leverage, translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from grievance.models import Leverage, ObligationStatus, RemedyStatus

LEVERAGE_NAMES = {
    Leverage.HELD: _l("Leverage held"),
    Leverage.LACKING: _l("Leverage lacking"),
    Leverage.UNKNOWN: _l("Leverage not known yet"),
}

OBLIGATION_STATUS_NAMES = {
    ObligationStatus.OPEN: _l("Open"),
    ObligationStatus.FULFILLED: _l("Fulfilled"),
    ObligationStatus.NOT_FULFILLED: _l("Not fulfilled"),
    ObligationStatus.SUPERSEDED: _l("No longer required"),
}

REMEDY_STATUS_NAMES = {
    RemedyStatus.PLANNED: _l("Planned"),
    RemedyStatus.IN_PROGRESS: _l("In progress"),
    RemedyStatus.COMPLETED: _l("Completed"),
    RemedyStatus.ABANDONED: _l("Abandoned"),
}
