"""The anonymous surface: the complaint form and the receipt (DESIGN §8).

A channel only: it turns the form into a `Filing` and calls the filing service. Its own
session cookie (see `grievance.http.sessions`), nothing stored but what the form needs.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from grievance.crypto.secrets import format_receipt_code
from grievance.extensions import db
from grievance.extensions import intake_limiter as limiter
from grievance.http import uploads
from grievance.http.context import service_context
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
from grievance.services.filing import Filing, file_case

blueprint = Blueprint("intake", __name__, url_prefix=COMPLAINT)


def _mechanisms() -> list[Mechanism]:
    return list(db.session.scalars(select(Mechanism).order_by(Mechanism.name)))


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
    return ComplaintForm(mechanisms=[(m.code, m.name) for m in mechanisms], themes=themes)


@blueprint.route("", methods=["GET", "POST"])
@limiter.limit("20 per hour; 60 per day", methods=["POST"])  # form spam must not drown people
def complaint() -> str | tuple[str, int]:
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
        try:
            filed = file_case(ctx, filing, Actor(role=Role.COMPLAINANT))
            complainant = Actor.for_complainant(filed.complainant)
            attachments.attach(ctx, filed.case, complainant, files.clean_files)
            attachments.release(ctx, files.tokens)
        except InvalidInput as refused:
            form.show_refusal(refused)
        else:
            db.session.commit()
            # Shown once, never stored, never in a URL: the page itself is not cached.
            policy = ctx.case_policy(filed.case)
            acknowledge = policy.time_limit_for("acknowledge")
            return render_template(
                "intake/receipt.html",
                reference=filed.case.reference,
                receipt_code=format_receipt_code(filed.receipt_code),
                mechanism_code=mechanism.code,
                acknowledge=describe(acknowledge, policy.calendar) if acknowledge else None,
            )
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
        form=form,
        files=files,
        accept=uploads.ACCEPT,
        companies=companies,
        sites=sites,
        expired=expired,
    )


@blueprint.errorhandler(CSRFError)
def expired(_error: CSRFError) -> tuple[str, int]:
    """The form came back without a valid CSRF token, mostly because the intake cookie
    was gone (the browser closed, the phone dropped the tab): nothing is checked or
    filed, but what the person wrote comes back with a fresh token, to check and send
    again. The files cannot come back: they were not read."""
    mechanisms = _mechanisms()
    form = _form(service_context(), mechanisms)
    return _form_page(form, uploads.Uploads(), mechanisms, expired=True), 400
