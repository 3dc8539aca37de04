"""The forms of the remedy pages of the staff app (the reviewers' and the companies'),
and what to say when a service refuses one of them. Every form has a hidden `go` field:
a POST without it (a forged or broken request) is refused by the form, doing nothing."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from grievance.http import refusals
from grievance.http.forms import FILES_HINT, TOO_LONG, TranslatedForm
from grievance.http.remedy_labels import type_name
from grievance.policies import Policy
from grievance.services import remedy_plan
from grievance.services.errors import FourEyesViolation, InvalidInput, ServiceError
from grievance.services.remedy_rules import PlanNotApproved, RemedyOutstanding

REQUIRED = _l("Please answer this question.")
TEXT_MAX = 4000


class ActionForm(TranslatedForm):
    go = HiddenField(default="1", validators=[DataRequired()])


class ItemChoiceForm(ActionForm):
    item = HiddenField(validators=[DataRequired()])

    def item_id(self) -> int | None:
        value = self.item.data or ""
        return int(value) if value.isdigit() else None


class ReasonForm(ActionForm):
    reason = TextAreaField(
        _l("Reasons"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX, message=TOO_LONG)]
    )


class ItemReasonForm(ItemChoiceForm):
    reason = TextAreaField(
        _l("Reasons"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX, message=TOO_LONG)]
    )


class VerifyForm(ItemChoiceForm):
    note = TextAreaField(
        _l("What you checked (optional)"),
        validators=[Optional(), Length(max=TEXT_MAX, message=TOO_LONG)],
    )


class ItemForm(ActionForm):
    remedy_type = SelectField(_l("Type of remedy"), validators=[DataRequired(REQUIRED)])
    description = TextAreaField(
        _l("What will be done"),
        validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX, message=TOO_LONG)],
    )
    company = SelectField(_l("Responsible company"), validators=[Optional()])
    share_percent = IntegerField(
        _l("Its share, in per cent (optional)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
    beneficiary_count = IntegerField(
        _l("How many people benefit (optional)"),
        validators=[Optional(), NumberRange(min=1, max=remedy_plan.MAX_BENEFICIARIES)],
    )
    beneficiaries = StringField(
        _l("Which groups benefit (never names)"),
        validators=[Optional(), Length(max=500, message=TOO_LONG)],
    )
    due_on = DateField(_l("Due date (optional)"), validators=[Optional()])

    def offer(self, policy: Policy, companies: list[tuple[int, str]] | None) -> None:
        self.remedy_type.choices = [
            (remedy.code, type_name(remedy.code, remedy.label)) for remedy in policy.remedy_types
        ]
        if companies is None:  # a company proposes for itself
            del self.company
        else:
            self.company.choices = [
                ("", gettext("No company")),
                *[(str(i), n) for i, n in companies],
            ]

    def item_input(self) -> remedy_plan.ItemInput:
        company = getattr(self, "company", None)
        value = company.data if company is not None else ""
        return remedy_plan.ItemInput(
            remedy_type=self.remedy_type.data or "",
            description=self.description.data or "",
            company_id=int(value) if value and value.isdigit() else None,
            share_percent=self.share_percent.data,
            beneficiary_count=self.beneficiary_count.data,
            beneficiaries=self.beneficiaries.data or "",
            due_on=self.due_on.data,
        )


class ReportForm(ItemChoiceForm):
    note = TextAreaField(
        _l("What your company did"),
        validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX, message=TOO_LONG)],
    )
    completed = BooleanField(_l("This item is done"))
    files = MultipleFileField(_l("Evidence: photos or documents"), description=FILES_HINT)


def refusal(error: ServiceError, form: Any | None = None) -> str:
    """What to say of a refused action, in the reader's language; an invalid field's own
    message goes on that field when the form has it."""
    if isinstance(error, InvalidInput):
        for name in error.errors:
            field = getattr(form, name, None) if form is not None else None
            text = refusals.message(error, name)
            if field is not None:
                field.errors = [*field.errors, text]
        return str(gettext("Please check what you wrote."))
    if isinstance(error, remedy_plan.ConsultationMissing):
        return str(gettext("The complainant has not agreed to the plan as it is now."))
    if isinstance(error, remedy_plan.PlanClosed):
        return str(gettext("The plan can no longer change at this stage."))
    if isinstance(error, (RemedyOutstanding, PlanNotApproved)):
        return str(gettext("An item of the plan is unverified or disputed."))
    if isinstance(error, FourEyesViolation):
        return str(gettext("A second reviewer must confirm this."))
    return str(gettext("This cannot be done at this stage of the plan."))
