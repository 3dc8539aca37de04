"""The complaint form. Every label, hint and message is translatable; the choices come
from the mechanism's policy (themes) and from Babel (country names).

Every validator is given its own translated message. What WTForms says by itself (an
answer outside a field's choices) is looked up in our catalogs too: `TranslatedForm`
hands WTForms Flask-Babel's translations, and `WTFORMS_MESSAGES` marks WTForms' own
texts for `make extract` (WTForms ships no catalog for most of our languages).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from babel import Locale
from flask_babel import get_locale, get_translations, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from grievance.http.context import service_context
from grievance.http.fields import CheckboxList
from grievance.http.refusals import Specific, message
from grievance.models import Anonymity, ComplainantKind, ContactChannel, Mechanism
from grievance.services.errors import InvalidInput
from grievance.services.filing import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    MAX_LENGTHS,
    SHARE_IDENTITY,
    STATEMENT_MAX,
    ComplainantDetails,
    phone_region,
)
from grievance.services.phones import InvalidPhoneNumber, PhoneProblem, parse_phone

#: The messages WTForms writes itself, as it writes them, for our catalogs: a radio, select
#: or checkbox answer that is not one of the choices offered.
WTFORMS_MESSAGES = (_l("Not a valid choice."),)


def _wtforms_plural_messages(count: int) -> str:
    """Never called: marks the plural message of `SelectMultipleField` for extraction."""
    return str(
        ngettext(
            "'%(value)s' is not a valid choice for this field.",
            "'%(value)s' are not valid choices for this field.",
            count,
            value="",
        )
    )


class TranslatedForm(FlaskForm):
    """A form whose WTForms messages come from our catalogs, in the reader's language."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            return get_translations()


#: The message of a length limit (WTForms fills in `max`).
TOO_LONG = _l("Please keep it under %(max)d characters.")
#: A choice that must be made (the radios have a default: only a changed request lacks it).
CHOOSE = _l("Please choose one answer.")


ANONYMITY_CHOICES = [
    (Anonymity.ANONYMOUS.value, _l("Anonymous: we never know who you are.")),
    (
        Anonymity.CONFIDENTIAL.value,
        _l("Confidential: the reviewers know who you are, the companies do not."),
    ),
    (Anonymity.OPEN.value, _l("Open: you agree that the companies may know who you are.")),
]

KIND_CHOICES = [
    (ComplainantKind.AFFECTED.value, _l("It happened to me")),
    (
        ComplainantKind.REPRESENTATIVE.value,
        _l("I complain for someone else, as their representative"),
    ),
    (ComplainantKind.UNION.value, _l("I complain for a trade union")),
    (ComplainantKind.CSO.value, _l("I complain for an organisation or NGO")),
    (ComplainantKind.NOTIFIER.value, _l("I saw it happen to others")),
]

CONTACT_CHOICES = [
    (ContactChannel.NONE.value, _l("Do not contact me: I will come back with my receipt code")),
    (ContactChannel.SMS.value, _l("By SMS")),
    (ContactChannel.EMAIL.value, _l("By e-mail")),
    (ContactChannel.REPRESENTATIVE.value, _l("Through my representative")),
]

FILES_HINT = _l(
    "Up to 5 files of 10 MB each. We remove hidden information from photos, such as "
    "the place where they were taken."
)

YES_NO = [("no", _l("No")), ("yes", _l("Yes"))]


NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


def choices(pairs: Sequence[tuple[str, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def country_choices() -> list[SelectChoice]:
    """Every country, named in the reader's language, sorted for them."""
    locale = get_locale() or Locale.parse("en")
    names = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }
    return choices([("", _l("Choose a country")), *sorted(names.items(), key=lambda item: item[1])])


#: What the form says of a phone number the filing service cannot read (`phones.parse_phone`).
PHONE_NEEDS_COUNTRY_CODE = _l("Give your phone number with its country code, starting with +.")
PHONE_UNREADABLE = _l("We cannot read this phone number. Check its digits and its country code.")

#: The form field that shows a refusal of the filing service, by the field it names.
REFUSED_FIELDS = {
    "anonymity": "name",
    "consents": "share_identity",
    f"consents.{SHARE_IDENTITY}": "share_identity",
    "contact_address": "phone",
    "received_at": "received_on",  # the staff's form
}


class ComplaintForm(TranslatedForm):
    mechanism = RadioField(
        _l("Where do you complain?"), validators=[DataRequired(_l("Choose where you complain."))]
    )
    statement = TextAreaField(
        _l("What happened?"),
        description=_l(
            "Write in your own words and your own language. Say what happened, to whom, and since when."
        ),
        validators=[
            DataRequired(_l("Tell us what happened.")),
            Length(max=STATEMENT_MAX, message=TOO_LONG),
        ],
    )
    country = SelectField(_l("In which country?"), validators=[Optional()])
    location = StringField(
        _l("Where? The factory, site or community"),
        validators=[Optional(), Length(max=MAX_LENGTHS["location"], message=TOO_LONG)],
    )
    occurred = StringField(
        _l("When did it happen?"),
        validators=[Optional(), Length(max=MAX_LENGTHS["occurred"], message=TOO_LONG)],
    )
    companies = StringField(
        _l("Which companies or brands?"),
        description=_l("The factory's name, and the brands it makes for, if you know them."),
        validators=[Optional(), Length(max=MAX_LENGTHS["companies"], message=TOO_LONG)],
    )
    themes = CheckboxList(_l("What is it about?"), validators=[Optional()])
    urgent = RadioField(
        _l("Is someone in danger now?"),
        choices=choices(YES_NO),
        default="no",
        validators=[DataRequired(CHOOSE)],
    )
    kind = RadioField(
        _l("Who are you?"),
        choices=choices(KIND_CHOICES),
        default=ComplainantKind.AFFECTED.value,
        validators=[DataRequired(CHOOSE)],
    )
    # No Optional() where an inline check must run on an empty answer: it stops the chain.
    represents = StringField(
        _l("Whom do you represent?"),
        description=_l("For example: the 40 workers of the sewing line."),
        validators=[Length(max=MAX_LENGTHS["represents"], message=TOO_LONG)],
    )
    anonymity = RadioField(
        _l("Who may know who you are?"),
        choices=choices(ANONYMITY_CHOICES),
        default=Anonymity.ANONYMOUS.value,
        validators=[DataRequired(CHOOSE)],
    )
    name = StringField(
        _l("Your name"),
        validators=[Optional(), Length(max=MAX_LENGTHS["name"], message=TOO_LONG)],
    )
    contact = RadioField(
        _l("How may we contact you?"),
        choices=choices(CONTACT_CHOICES),
        default=ContactChannel.NONE.value,
        validators=[DataRequired(CHOOSE)],
    )
    phone = StringField(
        _l("Phone number, with the country code"),
        description=_l("For example +880 1711 000000"),
        validators=[Length(max=40, message=TOO_LONG)],
    )
    email = StringField(_l("E-mail address"), validators=[Length(max=EMAIL_MAX, message=TOO_LONG)])
    files = MultipleFileField(
        _l("Photos, documents or voice recordings (if you have them)"), description=FILES_HINT
    )
    share_identity = BooleanField(_l("The companies may know who I am."))
    publish_summary = BooleanField(_l("A summary without my name may be published."))

    def __init__(
        self,
        *args: Any,
        mechanisms: list[tuple[str, str]],
        themes: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.mechanism.choices = choices(mechanisms)
        if len(mechanisms) == 1 and not self.mechanism.data:
            self.mechanism.data = mechanisms[0][0]
        self.themes.choices = choices(themes)
        self.country.choices = country_choices()

    # -- what the form says, for the filing service (every channel that uses the form) --

    def complainant_details(self) -> ComplainantDetails:
        """Who complains, how they may be reached, and what they agree to."""
        contact = ContactChannel(self.contact.data)
        address = {ContactChannel.SMS: self.phone.data, ContactChannel.EMAIL: self.email.data}
        return ComplainantDetails(
            anonymity=Anonymity(self.anonymity.data),
            kind=ComplainantKind(self.kind.data),
            contact_channel=contact,
            contact_address=address.get(contact) or "",
            name=self.name.data or "",
            represents=self.represents.data or "",
            consents={
                "share_identity_with_company": bool(self.share_identity.data),
                "publish_summary": bool(self.publish_summary.data),
            },
        )

    def case_details(self) -> dict[str, Any]:
        """The `Filing` fields about what happened (the keyword arguments, by name)."""
        return {
            "statement": self.statement.data or "",
            "themes": self.themes.data or [],
            "country": self.country.data or None,
            "location": self.location.data or "",
            "companies": self.companies.data or "",
            "occurred": self.occurred.data or "",
            "urgent": self.urgent.data == "yes",
        }

    def field_refused(self, name: str) -> Any:
        """The field of the form where the filing service's refusal of `name` shows."""
        if name == "contact_address" and self.contact.data == ContactChannel.EMAIL.value:
            return self.email
        return getattr(self, REFUSED_FIELDS.get(name, name), None) or self.statement

    def show_refusal(self, refused: InvalidInput, specific: Specific | None = None) -> None:
        """The filing service's refusal, each problem on the field it concerns. The form
        checks most rules first, for a message next to the answer; the service checks
        them all, whichever channel files (what the form passed, the service may still
        refuse: a text NFC makes longer, a day that has not come yet)."""
        for name in refused.errors:
            field = self.field_refused(name)
            text = message(refused, name, specific)
            if text not in field.errors:
                field.errors = [*field.errors, text]

    def validate_represents(self, field: StringField) -> None:
        if self.kind.data in ("representative", "union", "cso") and not (field.data or "").strip():
            raise ValidationError(_l("Say whom you represent."))

    def validate_name(self, field: StringField) -> None:
        if self.anonymity.data == "anonymous" and (field.data or "").strip():
            raise ValidationError(
                _l("You chose to stay anonymous: leave your name out, or choose another option.")
            )

    def validate_phone(self, field: StringField) -> None:
        if self.contact.data != "sms":
            return
        if not (field.data or "").strip():
            raise ValidationError(PHONE_NEEDS_COUNTRY_CODE)
        try:
            parse_phone(field.data or "", self.phone_region())
        except InvalidPhoneNumber as refused:
            if refused.problem is PhoneProblem.NEEDS_COUNTRY_CODE:
                raise ValidationError(PHONE_NEEDS_COUNTRY_CODE) from None
            raise ValidationError(PHONE_UNREADABLE) from None

    def phone_region(self) -> str | None:
        """The country a number typed without its country code is from, as the filing
        service reads it (`filing.phone_region`)."""
        code = self.mechanism.data or ""
        if code not in {choice.value for choice in self.mechanism.choices or []}:
            return None
        ctx = service_context()
        mechanism = ctx.session.scalar(select(Mechanism).where(Mechanism.code == code))
        if mechanism is None:
            return None
        return phone_region(ctx, mechanism, self.country.data or None, self.known_site())

    def known_site(self) -> int | None:
        """The id of the known site the complaint names (staff choose one: `RecordForm`)."""
        return None

    def validate_email(self, field: StringField) -> None:
        if self.contact.data == "email" and EMAIL_PATTERN.match((field.data or "").strip()) is None:
            raise ValidationError(_l("Give an e-mail address, like name@example.org."))

    def validate_share_identity(self, field: BooleanField) -> None:
        if field.data and self.anonymity.data != "open":
            raise ValidationError(
                _l("Only an open complaint can share who you are with the companies.")
            )
