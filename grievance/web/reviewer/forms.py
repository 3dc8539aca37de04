"""The forms of the case page: one per action, each a Flask-WTF form (CSRF) whose own
messages come from our catalogs. A form fills in what depends on the case itself:
`initial` (the values shown before anything is typed) and `offer` (the choices: the
moves open from the case's stage, the texts that can be translated)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import format_datetime, get_locale, get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from grievance.extensions import db
from grievance.models import Case, CaseEvent, Message, ReprisalRisk
from grievance.policies import Policy
from grievance.services import messages, translations
from grievance.web.reviewer.common import reviewer_moves
from grievance.web.reviewer_labels import RISK_NAMES, move_name

#: Reasons are read by the complainant (moves, requests) or kept for the audit.
REASON_MAX = 5000

GIVE_REASONS = _l("Give your reasons.")
TOO_LONG = _l("Please keep it under %(max)d characters.")
CHOOSE_ONE = _l("Please choose one answer.")
FROM_1_TO_5 = _l("Choose from 1 (least) to 5 (most).")


class WorkspaceForm(FlaskForm):  # type: ignore[misc]
    """A form of the workspace: WTForms' own messages come from our catalogs."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            return get_translations()

    @classmethod
    def initial(cls, case: Case, policy: Policy) -> dict[str, Any]:
        """The values the form shows on the case page before anything is typed."""
        return {}

    def offer(self, case: Case, policy: Policy) -> None:
        """Set the choices that depend on the case."""


def _reason(label: Any, description: Any = None, *, required: bool = True) -> TextAreaField:
    first = DataRequired(GIVE_REASONS) if required else Optional()
    return TextAreaField(
        label,
        description=description,
        validators=[first, Length(max=REASON_MAX, message=TOO_LONG)],
    )


class AcknowledgeForm(WorkspaceForm):
    pass


class MessageForm(WorkspaceForm):
    body = TextAreaField(
        _l("Message to the complainant"),
        description=_l(
            "They read it on the follow-up page; if they gave a phone number, it goes to "
            "them by text message too."
        ),
        validators=[
            DataRequired(_l("Write a message.")),
            Length(max=messages.MESSAGE_MAX, message=TOO_LONG),
        ],
    )
    feedback = BooleanField(_l("This is the feedback on the action envisaged or taken"))


class InformationForm(WorkspaceForm):
    reason = _reason(
        _l("What do you need from the complainant?"),
        _l("The complainant reads this. The time limits stop until they answer."),
    )


class HearingForm(WorkspaceForm):
    """R08: the complainant heard outside this system, or why they could not be."""

    outcome = RadioField(
        _l("Did you hear the complainant?"),
        choices=[
            SelectChoice("heard", _l("Yes: we spoke with them")),
            SelectChoice("not_heard", _l("No: they could not be heard")),
        ],
        validators=[DataRequired(CHOOSE_ONE)],
    )
    note = _reason(_l("How and when, or why not"))


class ResumeForm(WorkspaceForm):
    pass


SCORES = [SelectChoice("", _l("Choose")), *(SelectChoice(str(n), str(n)) for n in range(1, 6))]


class SeverityForm(WorkspaceForm):
    scale = SelectField(
        _l("Scale: how grave is the harm?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )
    scope = SelectField(
        _l("Scope: how many people does it reach?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )
    irremediability = SelectField(
        _l("Irremediability: how hard is it to put right?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )
    likelihood = SelectField(
        _l("Likelihood: how likely is the harm?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )

    @classmethod
    def initial(cls, case: Case, policy: Policy) -> dict[str, Any]:
        return {
            field: str(value) if value is not None else ""
            for field, value in (
                ("scale", case.severity_scale),
                ("scope", case.severity_scope),
                ("irremediability", case.severity_irremediability),
                ("likelihood", case.severity_likelihood),
            )
        }


class ReprisalForm(WorkspaceForm):
    level = RadioField(
        _l("Risk of reprisal against the complainant"),
        choices=[SelectChoice(level.value, RISK_NAMES[level]) for level in ReprisalRisk],
        validators=[DataRequired(CHOOSE_ONE)],
    )

    @classmethod
    def initial(cls, case: Case, policy: Policy) -> dict[str, Any]:
        return {"level": case.reprisal_risk.value} if case.reprisal_risk is not None else {}


class MoveForm(WorkspaceForm):
    # the choices are the moves the lifecycle allows a reviewer from the case's stage
    target = RadioField(_l("Next step"), validators=[DataRequired(CHOOSE_ONE)])
    reason = _reason(
        _l("Reasons"),
        _l(
            "Decisions give their reasons: the complainant and the companies read them. "
            "A decision marked as needing a second reviewer is proposed now and takes "
            "effect when the other reviewer confirms it."
        ),
        required=False,
    )
    # the language the reasons are written in, chosen, not assumed (#15, item 4); the
    # page's language until the reviewer says otherwise
    reason_language = SelectField(
        # (the case page warns when the reasons are not in the complainant's language and
        # offers to translate them: no hint here, the workspace keeps to two screens)
        _l("The reasons are written in"),
        validate_choice=False,  # an unknown language is not kept (the services say so)
    )

    @classmethod
    def initial(cls, case: Case, policy: Policy) -> dict[str, Any]:
        return {"reason_language": page_language(policy)}

    def offer(self, case: Case, policy: Policy) -> None:
        self.reason_language.choices = [
            SelectChoice(lang.code, lang.name) for lang in policy.language
        ]
        choices = []
        for move in reviewer_moves(case):
            label = move_name(move)
            if move.four_eyes:
                label = gettext("%(move)s (needs a second reviewer)", move=label)
            elif move.needs_reason:
                label = gettext("%(move)s (give reasons)", move=label)
            choices.append(SelectChoice(move.target.value, label))
        self.target.choices = choices


class ConfirmForm(WorkspaceForm):
    proposal = HiddenField()


class WithdrawForm(WorkspaceForm):
    proposal = HiddenField()
    reason = _reason(_l("Why is the proposal dropped?"))


class RecuseForm(WorkspaceForm):
    reason = _reason(
        _l("Why do you step off this case?"),
        _l(
            "Only the audit log keeps your reason. Another reviewer takes your place; "
            "you do not come back to this case."
        ),
    )


class RevealForm(WorkspaceForm):
    reason = _reason(
        _l("Why do you need to see who they are?"),
        _l("Your name, the time and your reason are kept in the case's audit log."),
    )


#: A translation's source that is the reasons of an event: this, then the event's `seq`.
REASONS = "reasons-"


class TranslationForm(WorkspaceForm):
    # the choices are the statement, the case's messages and the reasons the complainant
    # reads, and the policy's languages
    source = SelectField(_l("Translation of"))
    language = SelectField(_l("Into"))
    text = TextAreaField(
        _l("Translation"),
        validators=[
            DataRequired(_l("Write the translation.")),
            Length(max=translations.TRANSLATION_MAX, message=TOO_LONG),
        ],
    )

    @classmethod
    def initial(cls, case: Case, policy: Policy) -> dict[str, Any]:
        return {"language": "en" if policy.language_named("en") else policy.language[0].code}

    def offer(self, case: Case, policy: Policy) -> None:
        sources = [SelectChoice("statement", gettext("The statement"))]
        for message_id, created_at in db.session.execute(
            select(Message.id, Message.created_at)
            .where(Message.case_id == case.id)
            .order_by(Message.id)
        ):
            label = gettext("The message of %(date)s", date=_when(created_at))
            sources.append(SelectChoice(str(message_id), label))
        for event in db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        ):
            if translations.reasons_given(case, event):
                label = gettext("The reasons of %(date)s", date=_when(event.created_at))
                sources.append(SelectChoice(f"{REASONS}{event.seq}", label))
        self.source.choices = sources
        self.language.choices = [SelectChoice(lang.code, lang.name) for lang in policy.language]


def page_language(policy: Policy) -> str:
    """The page's language, if the policy knows it (else the policy's first language)."""
    code = str(get_locale() or "")
    return code if policy.language_named(code) is not None else policy.language[0].code


def _when(moment: datetime) -> str:
    return str(format_datetime(moment, "short"))
