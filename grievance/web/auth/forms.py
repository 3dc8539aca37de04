"""The forms of the sign-in and account pages, and the words they use: the names of the
roles, and what a refused password is told."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from grievance.models import Role
from grievance.services import accounts

ROLE_NAMES = {
    Role.REVIEWER: _l("Independent reviewer"),
    Role.COMPANY: _l("Company staff"),
    Role.SECRETARIAT: _l("Secretariat"),
    Role.ADMIN: _l("Administrator"),
}

PASSWORD_PROBLEMS = {
    accounts.PasswordProblem.WRONG_CURRENT: _l("Your current password is not right."),
    accounts.PasswordProblem.TOO_SHORT: _l("Use at least 12 characters."),
    accounts.PasswordProblem.TOO_LONG: _l("Use at most 128 characters."),
    accounts.PasswordProblem.IS_EMAIL: _l("Do not use your e-mail address as your password."),
    accounts.PasswordProblem.TOO_COMMON: _l(
        "This password is too common: choose one that is harder to guess."
    ),
    accounts.PasswordProblem.UNCHANGED: _l("Choose a password you have not used here."),
}


class SignInForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[
            InputRequired(_l("Give your e-mail address.")),
            Length(max=254, message=_l("Use at most %(max)d characters.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Give your password.")),
            Length(max=1024, message=_l("Use at most %(max)d characters.")),
        ],
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l(
            "The 6 digits your authenticator app shows now, or one of your recovery codes."
        ),
        validators=[
            InputRequired(_l("Give the code.")),
            Length(max=64, message=_l("Use at most %(max)d characters.")),
        ],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("The 6 digits your app shows now"),
        validators=[
            InputRequired(_l("Give the code.")),
            Length(max=64, message=_l("Use at most %(max)d characters.")),
        ],
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(_l("Give your current password.")),
            Length(max=1024, message=_l("Use at most %(max)d characters.")),
        ],
    )
    new = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters. A few unrelated words make a good one."),
        validators=[
            InputRequired(_l("Choose a new password.")),
            Length(max=accounts.PASSWORD_MAX, message=_l("Use at most %(max)d characters.")),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Type the new password again.")),
            Length(max=1024, message=_l("Use at most %(max)d characters.")),
        ],
    )
