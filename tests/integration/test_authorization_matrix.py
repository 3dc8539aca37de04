"""The authorisation matrix (issue #5): every staff and follow-up route, for every kind of
visitor, allowed or denied as the table below says, and nothing of the case in what a
visitor may not see.

The table is explicit: one row per (endpoint, method) and the visitors it lets in. The
route list comes from `app.url_map`, so a route added to one of the covered blueprints
without a row here fails `test_the_matrix_covers_every_route`; a new blueprint must be
covered or listed, with its reason, as out of scope.

One case ("the case") is the subject: a confidential complainant with a name, a phone
number and an e-mail address (in the identity's details: a complainant has one contact
address), a statement, a file, a message, a translation and reviewer-only log events
(a severity assessment, a decision proposed and withdrawn, with reasons). Each visitor:

- anonymous; the case's own complainant and another case's complainant, signed in with
  their receipt codes (follow-up pages are bound to the session's case: the other one is
  let in, to their own case, and sees and changes nothing of this one);
- the assigned reviewer; a reviewer replaced on the case; a reviewer not on it (on
  another case);
- a user of a company in the case, and of another company (company users are let in to
  their home, account and inbox pages and the company portal: the case's pages for the
  company in it only, which sees its own private response and never the private response
  of the other company in the case, Brand Zuid, whose users are no visitor here);
- a secretariat user of the case's mechanism, and of another mechanism;
- an administrator.

Denied is 403 or 404, or a redirect to the staff sign-in (no staff session) or to the
follow-up sign-in (no complainant session); a POST of the staff record form without a
staff session answers 401 with what was typed (nothing here). A denied response carries
nothing of the case (the markers below), and changes nothing: every table's row count
(`table_counts`) and every row are compared before and after each request.

POSTs carry a valid CSRF token of the session their path uses (the staff cookie or the
follow-up one), so a denial is the view's, not the CSRF check's; they carry no answers,
so an allowed POST is refused by its form (422) and changes nothing either, but for the
rows marked `acts` (an administrator's reset, deactivation and reactivation of the
reviewer, revoking a partner application's key, signing out, and the severity form, which
comes filled with the current assessment). The same POSTs without a token must change
nothing and show nothing more.
The markers are checked on the pages where they belong (`shows`), so a leak would be seen.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from flask import url_for
from sqlalchemy import select

from grievance.app import staff_app_of
from grievance.models import (
    Anonymity,
    Base,
    Channel,
    ComplainantKind,
    Conflict,
    ContactChannel,
    Deadline,
    DeadlineState,
    InvolvementKind,
    Leverage,
    Role,
    StaffNotification,
    Stage,
)
from grievance.services import (
    accounts,
    api_clients,
    attachments,
    cases,
    deadlines,
    involvement,
    messages,
    notifications,
    satisfaction,
    translations,
)
from grievance.services import obligations as company_side
from grievance.services.actors import SYSTEM, Actor
from grievance.services.attachments import check_file
from grievance.services.filing import ComplainantDetails
from tests.clients import BrowserLikeClient, HttpsClient
from tests.factories import (
    assigned_ids,
    classify,
    make_company,
    make_mechanism,
    make_reviewer,
    make_staff,
    make_user,
    new_case,
    put_reviewers,
    staff_case,
    table_counts,
)
from tests.integration.test_staff_auth import sign_in
from tests.media import pdf_document

# -- the visitors ---------------------------------------------------------------------------

ANONYMOUS = "anonymous"
COMPLAINANT = "complainant-own-case"
OTHER_COMPLAINANT = "complainant-other-case"
REVIEWER = "reviewer-assigned"
FORMER_REVIEWER = "reviewer-replaced"
OTHER_REVIEWER = "reviewer-not-assigned"
COMPANY = "company-in-case"
OTHER_COMPANY = "company-other"
SECRETARIAT = "secretariat-case-mechanism"
OTHER_SECRETARIAT = "secretariat-other-mechanism"
ADMIN = "admin"

VISITORS = (
    ANONYMOUS,
    COMPLAINANT,
    OTHER_COMPLAINANT,
    REVIEWER,
    FORMER_REVIEWER,
    OTHER_REVIEWER,
    COMPANY,
    OTHER_COMPANY,
    SECRETARIAT,
    OTHER_SECRETARIAT,
    ADMIN,
)
COMPLAINANTS = frozenset({COMPLAINANT, OTHER_COMPLAINANT})
REVIEWERS = frozenset({REVIEWER, FORMER_REVIEWER, OTHER_REVIEWER})
COMPANIES = frozenset({COMPANY, OTHER_COMPANY})
SECRETARIATS = frozenset({SECRETARIAT, OTHER_SECRETARIAT})
STAFF = REVIEWERS | COMPANIES | SECRETARIATS | {ADMIN}
EVERYONE = frozenset(VISITORS)

# -- what of the case a visitor may see -------------------------------------------------------

REFERENCE = "reference"
STATEMENT = "statement"
NAME = "name"
PHONE = "phone"
EMAIL = "e-mail"
MESSAGE = "message to the complainant"
FILE_NAME = "file name"
TRANSLATION = "translation"
PROPOSAL = "proposed decision's reasons"
WITHDRAWAL = "withdrawn proposal's reasons"
SEVERITY = "severity assessment"
OWN_RESPONSE = "the visiting company's own private response"
CO_PARTY_RESPONSE = "another company's private response"

IDENTITY = frozenset({NAME, PHONE, EMAIL})
REVIEWER_ONLY = frozenset({TRANSLATION, PROPOSAL, WITHDRAWAL, SEVERITY})
RESPONSES = frozenset({OWN_RESPONSE, CO_PARTY_RESPONSE})
CASE_DATA = (
    frozenset({REFERENCE, STATEMENT, MESSAGE, FILE_NAME}) | IDENTITY | REVIEWER_ONLY | RESPONSES
)

#: What each visitor may see of the case on a page they are let in to. The identity is on
#: no page of the matrix (only the reveal action's response shows it, to an assigned
#: reviewer giving a reason; the matrix sends that form without its data).
MAY_SEE: dict[str, frozenset[str]] = {
    REVIEWER: CASE_DATA - IDENTITY,
    COMPLAINANT: frozenset({REFERENCE, STATEMENT, MESSAGE, FILE_NAME}),
    # the deadlines of their mechanism, and the case's read-only view: the reviewers' log
    # (never the complainant's words, messages, files or their translations)
    SECRETARIAT: frozenset({REFERENCE, PROPOSAL, WITHDRAWAL, SEVERITY}) | RESPONSES,
    # the company portal: the case, and its own side of it only
    COMPANY: frozenset({REFERENCE, OWN_RESPONSE}),
}

# -- the matrix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request: `endpoint` by `method` (its URL parameters are the case's), and the
    visitors it lets in. `public`: a sign-in or sign-out page, for everyone, checked only
    for carrying no case data. `acts`: an allowed request changes data (not checked).
    `last`: it ends the session, so it goes after the others. `shows`: what the page must
    show to whom (a check that the markers would be seen if they leaked)."""

    endpoint: str
    method: str
    allowed: frozenset[str]
    query: str = ""
    public: bool = False
    acts: bool = False
    last: bool = False
    shows: dict[str, frozenset[str]] = field(default_factory=dict)


def _get(endpoint: str, allowed: frozenset[str], **kwargs: Any) -> Probe:
    return Probe(endpoint, "GET", allowed, **kwargs)


def _post(endpoint: str, allowed: frozenset[str], **kwargs: Any) -> Probe:
    return Probe(endpoint, "POST", allowed, **kwargs)


REVIEWER_ACTIONS = (
    "reviewer.acknowledge",
    "reviewer.send_message",
    "reviewer.request_information",
    "reviewer.resume",
    "reviewer.assess_severity",
    "reviewer.assess_reprisal_risk",
    "reviewer.move",
    "reviewer.confirm",
    "reviewer.withdraw",
    "reviewer.recuse",
    "reviewer.record_hearing",
    "reviewer.add_translation",
    "reviewer.reveal",
)

#: The remedy plan's actions on the reviewers' remedy page (grievance/web/reviewer/remedy.py).
REMEDY_ACTIONS = tuple(
    f"reviewer.remedy_{name}"
    for name in (
        "draft",
        "take_in",
        "set_aside",
        "put",
        "propose_approval",
        "confirm_approval",
        "withdraw_approval",
        "verify",
        "send_back",
        "close",
        "close_confirm",
    )
)
#: The company's remedy page: users of a company in the case only (never verifying).
COMPANY_REMEDY_PAGES = frozenset(
    {"company_remedy.remedy", "company_remedy.propose", "company_remedy.report"}
)

#: Staff home and account pages, and the inbox: every staff role, company users included.
ACCOUNT_PAGES = frozenset(
    {
        "staff.home",
        "staff.account",
        "staff.change_password",
        "staff.enrol",
        "staff.recovery_codes",
        "staff.sign_out",
        "inbox.inbox",
        "inbox.follow",
        "inbox.mark_read",
        "inbox.mark_all_read",
        "inbox.preferences",
    }
)

MATRIX: tuple[Probe, ...] = (
    # -- staff: signing in and out (public by nature) --
    _get("staff.sign_in", EVERYONE, public=True),
    _post("staff.sign_in", EVERYONE, public=True),
    _get("staff.sign_in_code", EVERYONE, public=True),
    _post("staff.sign_in_code", EVERYONE, public=True),
    _post("staff.sign_out", EVERYONE, public=True, acts=True, last=True),
    # -- staff: home and own account (every staff role; no company page exists yet) --
    _get("staff.home", STAFF),
    _get("staff.account", STAFF),
    _get("staff.change_password", STAFF),
    _post("staff.change_password", STAFF),
    _get("staff.enrol", STAFF),
    _post("staff.enrol", STAFF),
    _post("staff.recovery_codes", STAFF),
    # -- the inbox: everyone's own (notification_id: the assigned reviewer's "put on the
    #    case"; following or marking it read marks it read) and the e-mail choices --
    _get("inbox.inbox", STAFF, shows={REVIEWER: frozenset({REFERENCE})}),
    _get("inbox.follow", frozenset({REVIEWER}), acts=True),
    _post("inbox.mark_read", frozenset({REVIEWER}), acts=True),
    _post("inbox.mark_all_read", STAFF),
    _get("inbox.preferences", STAFF),
    _post("inbox.preferences", STAFF),
    # -- administrators: staff accounts and reviewers' profiles (user_id: the reviewer) --
    _get("admin.users", frozenset({ADMIN})),
    _get("admin.new_user", frozenset({ADMIN})),
    _post("admin.new_user", frozenset({ADMIN})),
    _get("admin.edit_user", frozenset({ADMIN})),
    _post("admin.edit_user", frozenset({ADMIN})),
    _get("admin.reset", frozenset({ADMIN})),
    _post("admin.reset", frozenset({ADMIN}), acts=True),
    _get("admin.deactivate", frozenset({ADMIN})),
    _post("admin.deactivate", frozenset({ADMIN}), acts=True),
    _post("admin.reactivate", frozenset({ADMIN}), acts=True),
    _get("admin_profile.save_for", frozenset({ADMIN})),
    _post("admin_profile.save_for", frozenset({ADMIN})),
    _post("admin_profile.declare_for", frozenset({ADMIN})),
    # -- administrators: partner applications' API keys (client_id: the world's client) --
    _get("api_clients.clients", frozenset({ADMIN})),
    _get("api_clients.new_client", frozenset({ADMIN})),
    _post("api_clients.new_client", frozenset({ADMIN})),
    _get("api_clients.client", frozenset({ADMIN})),
    _get("api_clients.revoke", frozenset({ADMIN})),
    _post("api_clients.revoke", frozenset({ADMIN}), acts=True),
    # -- secretariat: deadlines of their mechanisms, and of the case's by name --
    _get(
        "secretariat.deadlines",
        SECRETARIATS,
        query="days=30",
        shows={SECRETARIAT: frozenset({REFERENCE})},
    ),
    _get(
        "secretariat.deadlines",
        frozenset({SECRETARIAT}),
        query="days=30&mechanism={mechanism}",
        shows={SECRETARIAT: frozenset({REFERENCE})},
    ),
    # -- secretariat: a case of theirs read-only, and the companies' missed deadlines --
    _get(
        "secretariat.case",
        frozenset({SECRETARIAT}),
        shows={SECRETARIAT: frozenset({REFERENCE}) | RESPONSES},
    ),
    _get("secretariat.companies", SECRETARIATS),
    # -- the company portal: its cases; the case's pages for the company in it only --
    _get("company.cases", COMPANIES, shows={COMPANY: frozenset({REFERENCE})}),
    _get(
        "company.case", frozenset({COMPANY}), shows={COMPANY: frozenset({REFERENCE, OWN_RESPONSE})}
    ),
    _post("company.respond", frozenset({COMPANY})),
    _post("company.classification", frozenset({COMPANY})),
    _post("company.report", frozenset({COMPANY})),  # obligation_id: the company's own
    _post("company.write", frozenset({COMPANY})),
    # -- the companies of the case, for its reviewers (proposal_id: the lead's pending
    #    proposal, so the lead's decision is refused; obligation_id: not reported yet) --
    _get(
        "reviewer.companies",
        frozenset({REVIEWER}),
        shows={REVIEWER: frozenset({REFERENCE}) | RESPONSES},
    ),
    *(
        _post(f"reviewer.companies_{name}", frozenset({REVIEWER}))
        for name in ("add", "register", "site", "propose", "write", "decide", "verify")
    ),
    # -- secretariat: the cases of their mechanisms no reviewer can take --
    _get("unrouted.cases", SECRETARIATS),
    # -- a reviewer's own profile (conflict_id: the assigned reviewer's conflict) --
    _get("profile.save", REVIEWERS),
    _post("profile.save", REVIEWERS),
    _post("profile.declare", REVIEWERS),
    _post("profile.withdraw", frozenset({REVIEWER})),
    # -- recording a complaint received by phone, letter or in person --
    _get("record.record_complaint", REVIEWERS | SECRETARIATS),
    _post("record.record_complaint", REVIEWERS | SECRETARIATS),
    # -- the reviewer's workspace: the queue for reviewers, the case for its reviewers --
    _get(
        "reviewer.queue",
        REVIEWERS,
        query="stage=all",
        shows={REVIEWER: frozenset({REFERENCE})},
    ),
    _get(
        "reviewer.case",
        frozenset({REVIEWER}),
        shows={REVIEWER: CASE_DATA - IDENTITY},
    ),
    _get("reviewer.download", frozenset({REVIEWER})),
    # -- the remedy plan: the case's reviewers; the company in the case for its items --
    _get("reviewer.remedy", frozenset({REVIEWER}), shows={REVIEWER: frozenset({REFERENCE})}),
    *(_post(endpoint, frozenset({REVIEWER})) for endpoint in REMEDY_ACTIONS),
    _get("company_remedy.remedy", frozenset({COMPANY}), shows={COMPANY: frozenset({REFERENCE})}),
    _post("company_remedy.propose", frozenset({COMPANY})),
    _post("company_remedy.report", frozenset({COMPANY})),
    # (the severity form comes filled with the current assessment: sent, it assesses again)
    *(
        _post(endpoint, frozenset({REVIEWER}), acts=endpoint == "reviewer.assess_severity")
        for endpoint in REVIEWER_ACTIONS
    ),
    # -- follow-up with the receipt code (bound to the session's case) --
    _get("followup.sign_in", EVERYONE, public=True),
    _post("followup.sign_in", EVERYONE, public=True),
    _post("followup.sign_out", EVERYONE, public=True, last=True),
    _get(
        "followup.case",
        COMPLAINANTS,
        shows={COMPLAINANT: frozenset({REFERENCE, MESSAGE, FILE_NAME})},
    ),
    _post("followup.case", COMPLAINANTS),
    _post("followup.satisfaction_answer", COMPLAINANTS),
    _post("followup.remedy_plan_answer", COMPLAINANTS),
    _post("followup.remedy_item_answer", COMPLAINANTS),
    _get("followup.download", frozenset({COMPLAINANT})),  # the case's file
    # -- the transparency log (no session): the log's head, key and proofs for everyone;
    #    the case is withheld (no consent to publish), so its log answers 404 to all --
    _get("transparency.checkpoint", EVERYONE, public=True),
    _get("transparency.key", EVERYONE, public=True),
    _get("transparency.consistency", EVERYONE, public=True, query="from=0&to=0"),
    _get("transparency.case", frozenset()),
    # -- the public case registry (no session): the case is withheld, so it is on no page,
    #    export or feed, and its registry page answers 404 to all --
    _get("registry.index", EVERYONE, public=True),
    _get("registry.export_csv", EVERYONE, public=True),
    _get("registry.feed", EVERYONE, public=True),
    _get("registry_api.registry", EVERYONE, public=True),
    _get("registry.case", frozenset()),
)

#: The blueprints the matrix covers (grievance/app.py: both surfaces' blueprints).
IN_SCOPE = frozenset(
    {
        "staff",
        "admin",
        "admin_profile",
        "api_clients",
        "secretariat",
        "unrouted",
        "reviewer",
        "profile",
        "record",
        "followup",
        "inbox",
        "company",
        "company_remedy",
        "transparency",
        "registry",
        "registry_api",
    }
)
#: The others, and why the matrix leaves them out.
OUT_OF_SCOPE = {
    "public": "the public pages (front page, procedure): no case, no session",
    "intake": "the complaint form: anyone files; it reads no case; its receipt page shows "
    "only the filing this browser session made (test_resubmission.py)",
    "api": "the partner API: no session; keys tested in test_api.py, test_api_clients.py",
    "health": "the health check: no data",
    "sms": "the SMS webhook: signed by Twilio, tested in test_sms_webhook.py",
    "errors": "app-wide error handlers: no routes",
    "static": "static files: no data",
}
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


def _blueprint(endpoint: str) -> str:
    return endpoint.rsplit(".", 1)[0] if "." in endpoint else endpoint


def test_the_matrix_covers_every_route(app):
    """Every (endpoint, method) of a covered blueprint has a row; every row is a route;
    every registered blueprint is covered or out of scope, with its reason."""
    surfaces = (app, staff_app_of(app))
    routes = {
        (rule.endpoint, method)
        for surface in surfaces
        for rule in surface.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }
    in_scope = {route for route in routes if _blueprint(route[0]) in IN_SCOPE}
    probed = {(probe.endpoint, probe.method) for probe in MATRIX}
    assert in_scope - probed == set(), "routes without a row in the matrix"
    assert probed - routes == set(), "rows of the matrix that are no route"
    known = IN_SCOPE | OUT_OF_SCOPE.keys()
    assert {_blueprint(endpoint) for endpoint, _ in routes} <= known
    for surface in surfaces:
        assert set(surface.blueprints) <= known, "a blueprint neither covered nor out of scope"
    assert not IN_SCOPE & OUT_OF_SCOPE.keys()
    assert all(visitor in EVERYONE for probe in MATRIX for visitor in probe.allowed)


def test_company_users_reach_only_their_account_pages_the_portal_and_remedy_pages():
    """Company users are let in nowhere else; a company not in the case only to its own
    (empty) list of cases; no company page records or changes an involvement, and no
    company reaches a reviewer's action (verifying its remedy)."""
    for probe in MATRIX:
        if probe.public:
            continue
        if probe.endpoint in ACCOUNT_PAGES:
            continue
        if probe.endpoint.startswith("company."):
            expected = COMPANIES if probe.endpoint == "company.cases" else {COMPANY}
            assert probe.allowed == expected, probe
        elif probe.endpoint in COMPANY_REMEDY_PAGES:
            assert probe.allowed == {COMPANY}, probe
        else:
            assert not probe.allowed & COMPANIES, probe
    assert not MAY_SEE.get(OTHER_COMPANY)
    assert CO_PARTY_RESPONSE not in MAY_SEE[COMPANY]


def test_no_reviewer_reaches_a_case_they_are_not_on():
    for probe in MATRIX:
        if probe.endpoint.startswith("reviewer.") and probe.endpoint != "reviewer.queue":
            assert probe.allowed == {REVIEWER}, probe


# -- the case and the visitors ------------------------------------------------------------------

STATEMENT_TEXT = "Our overtime for March, April and May was never paid at the Gazipur plant."
NAME_TEXT = "Rahima Begum Sultana"
PHONE_TEXT = "+8801711000042"
EMAIL_TEXT = "rahima.sultana@example.net"
MESSAGE_TEXT = "We have written to the factory about the unpaid overtime, Rahima."
FILE_TEXT = "payslip-march-line4.pdf"
TRANSLATION_TEXT = "Translated: overtime of three months unpaid at the Gazipur plant."
PROPOSAL_TEXT = "Reviewers only: the plant may fall outside the covenant."
WITHDRAWAL_TEXT = "Reviewers only: the plant is covered after all."
SEVERITY_TEXT = "Severity assessed: scale 4, scope 3, irremediability 2, likelihood 5."
OWN_RESPONSE_TEXT = "Dhaka Knitwear answers: the overtime was paid in cash in June."
CO_PARTY_RESPONSE_TEXT = "Brand Zuid answers privately: we stopped ordering in May."
OTHER_STATEMENT = "The dormitory doors are locked at night at the Ashulia site."
OTHER_NAME = "Nasima Akter Khatun"
OTHER_MESSAGE = "The doors were locked again last night."
PDF = pdf_document("payslip of March, line 4")

MARKERS = {
    STATEMENT: STATEMENT_TEXT,
    NAME: NAME_TEXT,
    PHONE: PHONE_TEXT,
    EMAIL: EMAIL_TEXT,
    MESSAGE: MESSAGE_TEXT,
    FILE_NAME: FILE_TEXT,
    TRANSLATION: TRANSLATION_TEXT,
    PROPOSAL: PROPOSAL_TEXT,
    WITHDRAWAL: WITHDRAWAL_TEXT,
    SEVERITY: SEVERITY_TEXT,
    OWN_RESPONSE: OWN_RESPONSE_TEXT,
    CO_PARTY_RESPONSE: CO_PARTY_RESPONSE_TEXT,
}


@dataclass
class World:
    values: dict[str, Any]  # the URL parameters
    markers: dict[str, str]
    users: dict[str, tuple[Any, bytes | None]]  # staff visitor -> (user, seed)
    codes: dict[str, str]  # complainant visitor -> receipt code
    case: Any
    other: Any  # the other case's FiledCase
    other_file: Any
    other_message: Any


def _enrol(ctx, user) -> bytes:
    seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
    accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
    ctx.session.flush()
    return seed


def _open_satisfaction_check(ctx, case) -> None:
    """The satisfaction check a closed case has (R21), opened on this one as closing it
    would: its follow-up page then takes an answer (the matrix sends none)."""
    policy = ctx.case_policy(case)
    limit = policy.time_limit_for(satisfaction.CODE)
    now = ctx.now()
    due = deadlines.due_at(limit, now, policy.calendar)
    ctx.session.add(
        Deadline(
            case_id=case.id,
            code=limit.code,
            opened_at=now,
            due_at=due,
            remind_at=deadlines.remind_at(limit, now, due),
            state=DeadlineState.OPEN,
        )
    )
    ctx.session.flush()


def _world(ctx, clock) -> World:
    ours, theirs = make_mechanism(ctx, code="MXA"), make_mechanism(ctx, code="MXB")
    in_case = make_company(ctx, ours, name="Dhaka Knitwear")
    elsewhere = make_company(ctx, ours, name="Chittagong Denim")
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL,
        kind=ComplainantKind.AFFECTED,
        contact_channel=ContactChannel.SMS,
        contact_address=PHONE_TEXT,
        name=NAME_TEXT,
        details=f"Sewing operator, line 4; e-mail {EMAIL_TEXT}",
    )
    filed, lead, replaced = staff_case(
        ctx, mechanism=ours, complainant=person, statement=STATEMENT_TEXT, language="en"
    )
    case = filed.case
    second = make_reviewer(ctx, languages=["en"])
    put_reviewers(ctx, case, lead, second)  # the first second reviewer leaves the case
    involvement.add_company(ctx, case, in_case, SYSTEM)
    co_party = make_company(ctx, ours, name="Brand Zuid")
    involvement.add_company(ctx, case, co_party, SYSTEM)
    classify(ctx, case, in_case, InvolvementKind.CAUSE, lead, second, "Its own payroll.")
    pending = involvement.propose_involvement(
        ctx, case, co_party, InvolvementKind.LINKED, Leverage.HELD, Actor.for_user(lead), "Buys."
    )
    company_side.respond(
        ctx, case, Actor.for_user(make_user(ctx, Role.COMPANY, company=co_party)),
        CO_PARTY_RESPONSE_TEXT,
    )  # fmt: skip
    [attached] = attachments.attach(
        ctx, case, Actor.for_complainant(filed.complainant), [check_file(FILE_TEXT, PDF)]
    )
    as_lead, as_second = Actor.for_user(lead), Actor.for_user(second)
    cases.transition(ctx, case, Stage.ACKNOWLEDGED, as_lead)
    cases.assess_severity(ctx, case, as_lead, scale=4, scope=3, irremediability=2, likelihood=5)
    messages.add_message(ctx, case, as_lead, MESSAGE_TEXT, Channel.WEB, filed.complainant)
    translations.add_translation(ctx, case, as_lead, "en", TRANSLATION_TEXT)
    cases.transition(ctx, case, Stage.ADMISSIBILITY, as_lead)
    proposal = cases.propose_decision(ctx, case, Stage.INADMISSIBLE, as_lead, PROPOSAL_TEXT)
    cases.withdraw_decision(ctx, proposal, as_second, WITHDRAWAL_TEXT)
    _open_satisfaction_check(ctx, case)

    outsider = make_reviewer(ctx, languages=["en"])
    other = new_case(
        ctx,
        theirs,
        statement=OTHER_STATEMENT,
        language="en",
        complainant=ComplainantDetails(anonymity=Anonymity.CONFIDENTIAL, name=OTHER_NAME),
    )
    put_reviewers(ctx, other.case, replaced, outsider)  # the others work on the other case
    [other_file] = attachments.attach(
        ctx,
        other.case,
        Actor.for_complainant(other.complainant),
        [check_file("dormitory.pdf", PDF)],
    )
    other_message = messages.add_message(
        ctx, other.case, Actor.for_complainant(other.complainant), OTHER_MESSAGE, Channel.WEB
    )
    _open_satisfaction_check(ctx, other.case)
    conflict = Conflict(
        reviewer_id=lead.id,
        company_id=elsewhere.id,
        reason="Audited them in 2024",
        declared_on=ctx.now().date(),
    )
    ctx.session.add(conflict)
    ctx.session.flush()

    assert set(assigned_ids(ctx, case).values()) == {lead.id, second.id}
    assert lead.id not in assigned_ids(ctx, other.case).values()
    users = {
        REVIEWER: (lead, _enrol(ctx, lead)),
        FORMER_REVIEWER: (replaced, _enrol(ctx, replaced)),
        OTHER_REVIEWER: (outsider, _enrol(ctx, outsider)),
        COMPANY: make_staff(ctx, Role.COMPANY, company=in_case, totp=False),
        OTHER_COMPANY: make_staff(ctx, Role.COMPANY, company=elsewhere, totp=False),
        SECRETARIAT: make_staff(ctx, Role.SECRETARIAT, mechanisms=[ours]),
        OTHER_SECRETARIAT: make_staff(ctx, Role.SECRETARIAT, mechanisms=[theirs]),
        ADMIN: make_staff(ctx, Role.ADMIN),
    }
    company_side.respond(ctx, case, Actor.for_user(users[COMPANY][0]), OWN_RESPONSE_TEXT)
    partner = api_clients.create_client(
        ctx, Actor.for_user(users[ADMIN][0]), name="Worker Voice app", organisation="Awaj"
    )
    # a little later: the progress update (30 days) falls inside the 30-day window
    clock.advance(hours=1)
    return World(
        values={
            "notification_id": ctx.session.scalars(
                select(StaffNotification.id).where(
                    StaffNotification.user_id == lead.id,
                    StaffNotification.case_id == case.id,
                    StaffNotification.kind == notifications.CASE_ASSIGNED,
                )
            ).one(),
            "reference": case.reference,
            "attachment_id": attached.id,
            "complainant_id": filed.complainant.id,
            "conflict_id": conflict.id,
            "user_id": lead.id,
            "mechanism": ours.code,
            "code": ours.code,
            "client_id": partner.client.id,
            "proposal_id": pending.id,
            "obligation_id": company_side.obligations_of(ctx, case, in_case.id)[0].id,
        },
        markers={REFERENCE: case.reference, **MARKERS},
        users=users,
        codes={COMPLAINANT: filed.receipt_code, OTHER_COMPLAINANT: other.receipt_code},
        case=case,
        other=other,
        other_file=other_file,
        other_message=other_message,
    )


# -- visiting ----------------------------------------------------------------------------------

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _location(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def _token_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = TOKEN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@dataclass
class Visitor:
    name: str
    client: Any
    staff_token: str  # of the staff cookie's session
    intake_token: str  # of the anonymous surface's session (follow-up)


def _visitor(app, clock, world: World, name: str, scheme: str = "http") -> Visitor:
    """A client of `name`, signed in through the real sign-in pages. It sends what a
    browser sends (a Referer as the page's Referrer-Policy allows), over `scheme`."""
    client_class = HttpsClient if scheme == "https" else BrowserLikeClient
    client = client_class(app, app.response_class, use_cookies=True)
    if name in world.users:
        user, seed = world.users[name]
        response = sign_in(client, user, seed, clock)
        assert _location(response) == "/staff", response.get_data(as_text=True)
    if name in world.codes:
        page = client.get("/follow-up").get_data(as_text=True)
        match = TOKEN.search(page)
        assert match
        response = client.post(
            "/follow-up", data={"csrf_token": match.group(1), "code": world.codes[name]}
        )
        assert _location(response) == "/follow-up/case", response.get_data(as_text=True)
    return Visitor(
        name=name,
        client=client,
        staff_token=_token_of(client, "/staff" if name in STAFF else "/staff/sign-in"),
        intake_token=_token_of(client, "/follow-up"),
    )


def _path(app, probe: Probe, world: World) -> str:
    surface = app if probe.endpoint in app.view_functions else staff_app_of(app)
    (rule,) = surface.url_map.iter_rules(probe.endpoint)
    with surface.test_request_context():
        path = url_for(probe.endpoint, **{name: world.values[name] for name in rule.arguments})
    query = probe.query.format(**world.values)
    return f"{path}?{query}" if query else path


def _body(response) -> str:
    """The response's text, without the redirect's own echo of where it goes (the
    sign-in page's `next`: the address the visitor asked for, not data of the case)."""
    text = response.get_data().decode("utf-8", "replace")
    location = response.headers.get("Location")
    if location:
        for form in (location, unquote(location)):
            text = text.replace(html.escape(form), "").replace(form, "")
    return text


def _denied(response, visitor: str, probe: Probe) -> bool:
    status = response.status_code
    if status in (403, 404):
        return True
    if probe.endpoint.startswith("followup."):
        # no complainant session: to the follow-up sign-in
        return visitor not in COMPLAINANTS and status == 302 and _location(response) == "/follow-up"
    if visitor in STAFF:
        return False
    if status == 302 and _location(response) == "/staff/sign-in":
        return True
    # the staff record form sent without a staff session: what was typed, to copy (none)
    return probe.endpoint == "record.record_complaint" and probe.method == "POST" and status == 401


def _let_in(response) -> bool:
    """Past the authorisation: a page, a redirect elsewhere than a sign-in, or the form
    refused (422: the matrix sends no answers)."""
    status = response.status_code
    if status in (301, 302, 303):
        return _location(response) not in ("/staff/sign-in", "/follow-up")
    return status in (200, 409, 422)


#: The visitor's own session, not data of a case: a complainant's follow-up session is a
#: row (`followup_session`) that each request keeps alive, as the staff visitors' sessions
#: live in their cookies (tests/integration/test_followup_sessions.py).
SESSIONS = frozenset({"followup_session"})


def _state(session) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Every table's row count and its rows (an update shows too), but the sessions'."""
    session.flush()
    rows = {
        table.name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
        for table in Base.metadata.sorted_tables
        if table.name not in SESSIONS
    }
    counts = {name: count for name, count in table_counts(session).items() if name not in SESSIONS}
    return counts, rows


def _changes(before, after) -> list[str]:
    counts = [name for name in before[0] if before[0][name] != after[0][name]]
    rows = [name for name in before[1] if before[1][name] != after[1][name]]
    return [f"row count of {name}" for name in counts] + [
        f"rows of {name}" for name in rows if name not in counts
    ]


def _send(visitor: Visitor, probe: Probe, path: str, *, token: bool = True) -> Any:
    """The probe's request; a POST with the CSRF token of the session its path uses (or
    none), and no other field: the forms get no answers."""
    if probe.method == "GET":
        return visitor.client.get(path)
    if not token:
        return visitor.client.post(path, data={})
    value = visitor.intake_token if path.startswith("/follow-up") else visitor.staff_token
    return visitor.client.post(path, data={"csrf_token": value})


def _visit(app, ctx, world: World, visitor: Visitor) -> list[str]:
    """Every probe of the matrix for one visitor; what went wrong, in words."""
    failures: list[str] = []
    probes = sorted(MATRIX, key=lambda probe: (probe.last, probe.acts))
    before = _state(ctx.session)
    for probe in probes:
        path = _path(app, probe, world)
        label = f"{visitor.name}: {probe.method} {path} ({probe.endpoint})"
        allowed = visitor.name in probe.allowed
        try:
            response = _send(visitor, probe, path)
        except Exception as error:  # a crash is one more failure to report
            failures.append(f"{label}: raised {error!r}")
            ctx.session.rollback()
            before = _state(ctx.session)
            continue
        status = response.status_code
        body = _body(response)
        if status >= 500:
            failures.append(f"{label}: {status}")
        denied = _denied(response, visitor.name, probe)
        if probe.public:
            seen = frozenset()
        elif allowed:
            if denied or not _let_in(response):
                failures.append(f"{label}: should be allowed, got {status} {_location(response)}")
            seen = MAY_SEE.get(visitor.name, frozenset())
        else:
            if not denied:
                failures.append(f"{label}: should be denied, got {status} {_location(response)}")
            seen = frozenset()
            if "Content-Disposition" in response.headers:
                failures.append(f"{label}: denied, yet a file")
        for marker in sorted(CASE_DATA - seen):
            if world.markers[marker] in body:
                failures.append(f"{label}: shows the {marker}")
        for marker in sorted(probe.shows.get(visitor.name, frozenset())):
            if world.markers[marker] not in body:
                failures.append(f"{label}: the {marker} should be on the page")
        after = _state(ctx.session)
        changed = _changes(before, after)
        if changed and not (allowed and probe.acts):
            failures.append(f"{label}: changed {', '.join(changed)}")
        before = after
    return failures


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("name", VISITORS)
def test_every_route_allows_or_denies_as_the_matrix_says(app, ctx, clock, name, scheme):
    """Over https too, as production serves it: every form a visitor may send is let in
    (a browser's Referer, under the pages' Referrer-Policy, passes the CSRF origin check)."""
    world = _world(ctx, clock)
    visitor = _visitor(app, clock, world, name, scheme)
    failures = _visit(app, ctx, world, visitor)
    assert not failures, "\n".join(failures)


def test_ids_of_another_case_reach_nothing_through_this_one(app, ctx, clock):
    """The assigned reviewer and the complainant, on their own case's pages, with the ids
    of another case's file, complainant and message: not found, or refused by the form;
    nothing changes and nothing of the other case shows."""
    world = _world(ctx, clock)
    other = world.other
    reviewer = _visitor(app, clock, world, REVIEWER)
    base = f"/staff/reviewer/cases/{world.case.reference}"
    token = {"csrf_token": reviewer.staff_token}
    before = _state(ctx.session)

    assert reviewer.client.get(f"{base}/files/{world.other_file.id}").status_code == 404
    prefix = f"reveal{other.complainant.id}"
    response = reviewer.client.post(
        f"{base}/complainants/{other.complainant.id}/reveal",
        data={**token, f"{prefix}-reason": "To call her."},
    )
    assert response.status_code == 404
    assert OTHER_NAME not in response.get_data(as_text=True)
    response = reviewer.client.post(
        f"{base}/translations",
        data={
            **token,
            "translation-source": str(world.other_message.id),
            "translation-language": "en",
            "translation-text": "The doors were locked.",
        },
    )
    assert response.status_code == 422
    assert OTHER_MESSAGE not in response.get_data(as_text=True)
    complainant = _visitor(app, clock, world, COMPLAINANT)
    assert complainant.client.get(f"/follow-up/files/{world.other_file.id}").status_code == 404
    assert _changes(before, _state(ctx.session)) == []

    # the identity markers are seen where they may be: the reveal, with a reason
    prefix = f"reveal{world.values['complainant_id']}"
    response = reviewer.client.post(
        f"{base}/complainants/{world.values['complainant_id']}/reveal",
        data={**token, f"{prefix}-reason": "To call her about the visit."},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert all(world.markers[marker] in page for marker in IDENTITY)


@pytest.mark.parametrize("name", VISITORS)
def test_posts_without_a_csrf_token_change_nothing_and_show_nothing_more(app, ctx, clock, name):
    """The CSRF error pages give back what was typed (a case page, the record form, the
    follow-up page): to the visitors a POST lets in, and nothing of the case to others."""
    world = _world(ctx, clock)
    visitor = _visitor(app, clock, world, name)
    failures = []
    before = _state(ctx.session)
    for probe in MATRIX:
        if probe.method != "POST":
            continue
        path = _path(app, probe, world)
        label = f"{name}: POST {path} without a token ({probe.endpoint})"
        response = _send(visitor, probe, path, token=False)
        if response.status_code != 400:
            failures.append(f"{label}: {response.status_code}")
        allowed = name in probe.allowed and not probe.public
        seen = MAY_SEE.get(name, frozenset()) if allowed else frozenset()
        body = _body(response)
        failures += [
            f"{label}: shows the {marker}"
            for marker in sorted(CASE_DATA - seen)
            if world.markers[marker] in body
        ]
        after = _state(ctx.session)
        changed = _changes(before, after)
        if changed:
            failures.append(f"{label}: changed {', '.join(changed)}")
        before = after
    assert not failures, "\n".join(failures)
