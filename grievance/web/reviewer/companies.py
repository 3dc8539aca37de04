"""The companies of a case, for its reviewers (`/staff/reviewer/cases/<ref>/companies`,
issue #13): add companies from the mechanism's register or register a new one with its
sites, say at which site the harm happened, propose each company's involvement (kind,
leverage, rationale, and a trigger to reclassify) and confirm or reject another
reviewer's proposal (four eyes), verify the companies' reports on their obligations, and
write to each company. Each form calls one service, which checks the assignment again."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http import refusals
from grievance.http.company_events import obligation_label
from grievance.http.context import service_context
from grievance.http.events import describe
from grievance.http.labels import INVOLVEMENT_NAMES
from grievance.models import (
    Case,
    Company,
    CompanyKind,
    InvolvementKind,
    InvolvementProposal,
    Leverage,
    Obligation,
    Role,
    Site,
    User,
)
from grievance.services import casereads, company_cases, involvement
from grievance.services import obligations as company_side
from grievance.services.actors import Actor
from grievance.services.casereads import REVIEWER
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired, ServiceError
from grievance.web.auth import staff_required
from grievance.web.company.labels import LEVERAGE_NAMES, OBLIGATION_STATUS_NAMES
from grievance.web.reviewer.common import case_or_404

GIVE_REASONS = _l("Give your reasons.")
NOT_DONE = _l("This could not be done. Reload the case and try again.")
TRIGGER_NAMES = {
    "new_evidence": _l("New evidence"),
    "own_purchasing_practice_incentive": _l("Its own purchasing practices gave an incentive"),
    "leverage_use_failed": _l("Using leverage failed"),
    "time_elapsed_without_change": _l("Time passed without change"),
}
COMPANY_KIND_NAMES = {CompanyKind.BRAND: _l("Brand"), CompanyKind.SUPPLIER: _l("Supplier")}
#: The events of a company's side the page lists under each company.
SIDE_EVENTS = ("company_responded", "classification_answered", "company_message")

Page = tuple[str, int]


def _page(case: Case, user: User, error: str = "", form: str = "", kept: Any = None) -> Page:
    ctx = service_context()
    view = casereads.reviewer_view(ctx, case, user)
    in_case = {company.company_id for company in view.companies}
    register = [c for c in company_cases.register_of(ctx, case.mechanism) if c.id not in in_case]
    companies = {c.id: c for c in db.session.query(Company).filter(Company.id.in_(in_case))}
    sites = [site for cid in sorted(in_case) for site in companies[cid].sites]
    files = {file.id: file for file in view.files}
    side: dict[int, list[str]] = {cid: [] for cid in in_case}
    for event in view.events:
        company_id = event.fields.get("company_id")
        if event.kind in SIDE_EVENTS and company_id in side:
            side[company_id].append(
                f"{event.at:%Y-%m-%d}: {describe(event, REVIEWER, view.staff_names)}"
            )
    html = render_template(
        "reviewer/companies.html",
        case=case,
        view=view,
        user=user,
        proposals=involvement.pending_proposals(ctx, case),
        evidence={
            obligation_id: [files[row.id] for row in rows if row.id in files]
            for obligation_id, rows in company_side.evidence_of(ctx, case).items()
        },
        register=register,
        sites=sites,
        side=side,
        triggers=ctx.case_policy(case).reclassification.triggers,
        trigger_names=TRIGGER_NAMES,
        kinds=list(InvolvementKind),
        involvement_names=INVOLVEMENT_NAMES,
        leverage_names=LEVERAGE_NAMES,
        status_names=OBLIGATION_STATUS_NAMES,
        company_kind_names=COMPANY_KIND_NAMES,
        obligation_label=obligation_label,
        error=error,
        form=form,
        kept=kept or {},
    )
    return html, 422 if error else 200


@staff_required(Role.REVIEWER)
def companies(reference: str) -> Page:
    user, case = case_or_404(reference)
    return _page(case, user)


def _back(case: Case, message: str) -> Response:
    flash(message)
    return redirect(url_for("reviewer.companies", reference=case.reference), code=303)


def _refused(case: Case, user: User, form: str, refused: ServiceError) -> Page:
    if isinstance(refused, ReasonRequired):
        message = str(GIVE_REASONS)
    elif isinstance(refused, InvalidInput):
        message = refusals.message(refused, next(iter(refused.errors)))
    else:
        message = str(NOT_DONE)
    return _page(case, user, message, form, request.form)


def _int(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else None


def _company_in(case: Case, name: str = "company") -> Company | None:
    company_id = _int(name)
    company = db.session.get(Company, company_id) if company_id is not None else None
    if company is None or case.mechanism not in company.mechanisms:
        return None
    return company


def _enum(kind: Any, name: str) -> Any:
    try:
        return kind(request.form.get(name, ""))
    except ValueError:
        return None


def _run(case: Case, user: User, form: str, done: str, call: Any) -> Response | Page:
    try:
        call()
    except NotAllowed:
        abort(404)
    except ServiceError as refused:
        return _refused(case, user, form, refused)
    return _back(case, done)


@staff_required(Role.REVIEWER)
def add(reference: str) -> Response | Page:
    user, case = case_or_404(reference)
    company = _company_in(case)
    if company is None:
        return _refused(case, user, "add", InvalidInput({"company": Code.UNKNOWN}))
    return _run(
        case, user, "add", gettext("The company was added to the case."),
        lambda: involvement.add_company(service_context(), case, company, Actor.for_user(user)),
    )  # fmt: skip


@staff_required(Role.REVIEWER)
def register(reference: str) -> Response | Page:
    user, case = case_or_404(reference)
    kind = _enum(CompanyKind, "kind")
    if kind is None:
        return _refused(case, user, "register", InvalidInput({"kind": Code.UNKNOWN}))
    form = request.form
    sites = [(form.get("site", ""), "factory", form.get("site_country", "").strip().upper())]
    return _run(
        case, user, "register", gettext("The company was registered and added to the case."),
        lambda: involvement.register_company(
            service_context(), case, Actor.for_user(user), name=form.get("name", ""), kind=kind,
            country=form.get("country", "").strip().upper(), sites=sites,
        ),
    )  # fmt: skip


@staff_required(Role.REVIEWER)
def site(reference: str) -> Response | Page:
    user, case = case_or_404(reference)
    site_id = _int("site")
    chosen = db.session.get(Site, site_id) if site_id is not None else None
    if chosen is None:
        return _refused(case, user, "site", InvalidInput({"site": Code.UNKNOWN}))
    return _run(
        case, user, "site", gettext("The site was saved."),
        lambda: involvement.set_site(service_context(), case, chosen, Actor.for_user(user)),
    )  # fmt: skip


@staff_required(Role.REVIEWER)
def propose(reference: str) -> Response | Page:
    user, case = case_or_404(reference)
    company = _company_in(case)
    kind, leverage = _enum(InvolvementKind, "kind"), _enum(Leverage, "leverage")
    if company is None or kind is None or leverage is None:
        field = "company" if company is None else "kind" if kind is None else "leverage"
        return _refused(case, user, "propose", InvalidInput({field: Code.UNKNOWN}))
    return _run(
        case, user, "propose", gettext("Proposed: a second reviewer must confirm it."),
        lambda: involvement.propose_involvement(
            service_context(), case, company, kind, leverage, Actor.for_user(user),
            request.form.get("rationale", ""), request.form.get("trigger") or None,
        ),
    )  # fmt: skip


def _proposal(case: Case, proposal_id: int) -> InvolvementProposal:
    proposal = db.session.get(InvolvementProposal, proposal_id)
    if proposal is None or proposal.case_id != case.id:
        abort(404)
    return proposal


@staff_required(Role.REVIEWER)
def decide(reference: str, proposal_id: int) -> Response | Page:
    user, case = case_or_404(reference)
    proposal = _proposal(case, proposal_id)
    ctx, actor = service_context(), Actor.for_user(user)
    if request.form.get("decision") == "confirm":
        return _run(
            case, user, f"proposal-{proposal_id}", gettext("Confirmed: it takes effect now."),
            lambda: involvement.confirm_involvement(ctx, proposal, actor),
        )  # fmt: skip
    reason = request.form.get("reason", "")
    return _run(
        case, user, f"proposal-{proposal_id}", gettext("The proposal was not confirmed."),
        lambda: involvement.reject_involvement(ctx, proposal, actor, reason),
    )  # fmt: skip


@staff_required(Role.REVIEWER)
def verify(reference: str, obligation_id: int) -> Response | Page:
    user, case = case_or_404(reference)
    obligation = db.session.get(Obligation, obligation_id)
    if obligation is None or obligation.case_id != case.id:
        abort(404)
    accepted = request.form.get("decision") == "accept"
    return _run(
        case, user, f"obligation-{obligation_id}", gettext("The report was verified."),
        lambda: company_side.verify_obligation(
            service_context(), obligation, Actor.for_user(user), accepted,
            request.form.get("note", ""),
        ),
    )  # fmt: skip


@staff_required(Role.REVIEWER)
def write(reference: str) -> Response | Page:
    user, case = case_or_404(reference)
    company = _company_in(case)
    if company is None:
        return _refused(case, user, "write", InvalidInput({"company": Code.UNKNOWN}))
    return _run(
        case, user, "write", gettext("Your message was sent to the company."),
        lambda: company_side.write(
            service_context(), case, company, Actor.for_user(user), request.form.get("text", "")
        ),
    )  # fmt: skip


def register_routes(blueprint: Blueprint) -> None:
    base = "/cases/<reference>/companies"
    blueprint.add_url_rule(base, "companies", companies, methods=["GET"])
    for name, view in (
        ("add", add),
        ("register", register),
        ("site", site),
        ("propose", propose),
        ("write", write),
    ):
        blueprint.add_url_rule(f"{base}/{name}", f"companies_{name}", view, methods=["POST"])
    blueprint.add_url_rule(
        f"{base}/proposals/<int:proposal_id>", "companies_decide", decide, methods=["POST"]
    )
    blueprint.add_url_rule(
        f"{base}/obligations/<int:obligation_id>", "companies_verify", verify, methods=["POST"]
    )
