"""The anonymous surface: the complaint form and the receipt (DESIGN §8).

A channel only: it turns the form into a `Filing` and calls the filing service. Its own
session cookie (see `grievance.http.sessions`), nothing stored but what the form needs.
"""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from grievance.crypto.secrets import format_receipt_code
from grievance.extensions import db
from grievance.extensions import intake_limiter as limiter
from grievance.http import mechanisms as mechanism_names
from grievance.http import uploads
from grievance.http.context import service_context
from grievance.http.csrf import typed_text_may_come_back
from grievance.http.errors import http_error
from grievance.http.forms import ComplaintForm
from grievance.http.labels import describe
from grievance.http.paths import COMPLAINT
from grievance.models import Channel, Company, Mechanism, Site
from grievance.models.company import company_mechanism
from grievance.models.user import Role
from grievance.services import attachments
from grievance.services.actors import Actor
from grievance.services.context import Context
from grievance.services.errors import InvalidInput
from grievance.services.filing import Filing, file_once, filed_before, filing_fingerprint
from intake.web.options import COUNTRY_SELECT

blueprint = Blueprint("intake", __name__, url_prefix=COMPLAINT)

#: The form's hidden field of its token (`services.submissions`), and the token's shape.
SUBMISSION_FIELD = "submission"
SUBMISSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
#: The session key of the last filing's key, for the receipt page.
RECEIPT_KEY = "receipt"
WEB_SCOPE = "web"


def _mechanisms() -> list[Mechanism]:
    # their policies, at once: each one's name in the page's language comes from it
    query = select(Mechanism).options(selectinload(Mechanism.policies))
    return list(db.session.scalars(query.order_by(Mechanism.name)))


def _suggestions(mechanisms: list[Mechanism]) -> tuple[list[str], list[str]]:
    """Known companies and sites, offered as suggestions (the person may write anything)."""
    ids = [mechanism.id for mechanism in mechanisms]
    adhering = select(company_mechanism.c.company_id).where(
        company_mechanism.c.mechanism_id.in_(ids)
    )
    companies = db.session.scalars(select(Company.name).order_by(Company.name)).all()
    sites = db.session.execute(
        select(Site.name, Company.name)
        .join(Company, Company.id == Site.company_id)
        .where((Site.company_id.in_(adhering)) | Company.buyers.any(Company.id.in_(adhering)))
        .order_by(Site.name)
    ).all()
    return list(companies), [f"{site}, {company}" for site, company in sites]


def _form(ctx: Context, mechanisms: list[Mechanism]) -> ComplaintForm:
    """The form, with what was sent if this is a POST."""
    themes: list[tuple[str, str]] = []
    if mechanisms:
        # policy labels are extracted for translation by grievance.policies.extract
        themes = [(t.code, str(gettext(t.label))) for t in ctx.policy(mechanisms[0]).themes]
    names = [(m.code, mechanism_names.name_of(ctx, m)) for m in mechanisms]
    form = ComplaintForm(mechanisms=names, themes=themes)
    form.country.widget = COUNTRY_SELECT  # rendered once per locale (options.py)
    return form


def _submission_token() -> str:
    """The form's token: the one it came back with, or a new one for a blank form."""
    token = request.form.get(SUBMISSION_FIELD, "") if request.method == "POST" else ""
    return token if SUBMISSION_TOKEN.fullmatch(token) else secrets.token_urlsafe(32)


@blueprint.route("", methods=["GET", "POST"])
@limiter.limit("20 per hour; 60 per day", methods=["POST"])  # form spam must not drown people
def complaint() -> str | Response | tuple[str, int]:
    ctx = service_context()
    mechanisms = _mechanisms()
    language = str(get_locale() or "en")
    form = _form(ctx, mechanisms)
    files = uploads.collect(ctx) if request.method == "POST" else uploads.Uploads()
    valid = request.method == "POST" and form.validate()
    if files.errors:
        form.files.errors = [*form.files.errors, *files.errors]
        valid = False
    if valid:
        mechanism = next(m for m in mechanisms if m.code == form.mechanism.data)
        offered = ctx.policy(mechanism).languages
        filing = Filing(
            mechanism=mechanism,
            channel=Channel.WEB,
            language=language if language in offered else offered[0],
            complainant=form.complainant_details(),
            **form.case_details(),
        )
        # The form's token and what it says: the same form sent again (a reload, a double
        # tap, a retry) files once; a form changed and sent again is another complaint.
        key = f"{_submission_token()}:{filing_fingerprint(ctx, filing)}"
        try:
            filed = file_once(ctx, filing, Actor(role=Role.COMPLAINANT), scope=WEB_SCOPE, key=key)
            if not filed.replayed:
                complainant = Actor.for_complainant(filed.complainant)
                attachments.attach(ctx, filed.case, complainant, files.clean_files)
            attachments.release(ctx, files.tokens)
        except InvalidInput as refused:
            form.show_refusal(refused)
        else:
            db.session.commit()
            # The receipt is shown by the next page, which this browser session may load
            # again (a reload, another language) while `submissions.RECEIPT_SHOWN` lasts.
            session[RECEIPT_KEY] = key
            return redirect(url_for("intake.receipt"), 303)
    if request.method == "POST":
        db.session.commit()  # keeps the files held for the form's next try
        return _form_page(form, files, mechanisms), 422
    return _form_page(form, files, mechanisms)


def _form_page(
    form: ComplaintForm,
    files: uploads.Uploads,
    mechanisms: list[Mechanism],
    *,
    expired: bool = False,
) -> str:
    companies, sites = _suggestions(mechanisms)
    return render_template(
        "intake/complaint.html",
        submission=_submission_token(),
        form=form,
        files=files,
        accept=uploads.ACCEPT,
        companies=companies,
        sites=sites,
        expired=expired,
    )


@blueprint.get("/receipt")
def receipt() -> str | Response:
    """The receipt of the complaint this browser session filed, for a few minutes
    (`services.submissions.RECEIPT_SHOWN`): a reload or another language shows it again,
    never filing again. After that, the case number alone; nothing filed: the form."""
    kept = session.get(RECEIPT_KEY)
    key = kept if isinstance(kept, str) else ""
    token, _, fingerprint = key.partition(":")
    ctx = service_context()
    filed = None
    if SUBMISSION_TOKEN.fullmatch(token) and len(fingerprint) == 64:
        filed = filed_before(ctx, WEB_SCOPE, key, fingerprint)
    if filed is None:
        session.pop(RECEIPT_KEY, None)
        return redirect(url_for("intake.complaint"))
    policy = ctx.case_policy(filed.case)
    acknowledge = policy.time_limit_for("acknowledge")
    return render_template(
        "intake/receipt.html",
        reference=filed.case.reference,
        receipt_code=format_receipt_code(filed.receipt_code) if filed.receipt_code else None,
        mechanism_code=filed.case.mechanism.code,
        acknowledge=describe(acknowledge, policy.calendar) if acknowledge else None,
    )


@blueprint.errorhandler(CSRFError)
def expired(error: CSRFError) -> Response | tuple[str, int]:
    """The form came back without a valid CSRF token, mostly because the intake cookie
    was gone (the browser closed, the phone dropped the tab): nothing is checked or
    filed, but what the person wrote comes back with a fresh token, to check and send
    again. The files cannot come back: they were not read. A missing or forged token
    shows nothing from the request (`grievance.http.csrf`)."""
    if not typed_text_may_come_back():
        return http_error(error)
    mechanisms = _mechanisms()
    form = _form(service_context(), mechanisms)
    return _form_page(form, uploads.Uploads(), mechanisms, expired=True), 400
