"""The reviewers' companies page of a case (#13): add companies from the register or
register one with its site, pick the site, propose each involvement and have the second
reviewer confirm it, verify a company's report; refused input keeps what was typed."""

from __future__ import annotations

from sqlalchemy import select

from grievance.models import Company, CompanyKind, InvolvementKind, ObligationStatus, Role
from grievance.services import involvement
from grievance.services import obligations as company_side
from grievance.services.actors import Actor
from tests.factories import classify, make_company, make_user, staff_case
from tests.integration.test_reviewer_workspace import _client, _token


def _post(client, case, path, data):
    page = client.get(f"/staff/reviewer/cases/{case.reference}/companies?lang=en")
    assert page.status_code == 200
    return client.post(
        f"/staff/reviewer/cases/{case.reference}/companies/{path}?lang=en",
        data={"csrf_token": _token(page.get_data(as_text=True)), **data},
    )


def test_two_reviewers_add_and_classify_three_companies(app, ctx, clock):
    filed, lead, second = staff_case(ctx)
    case = filed.case
    supplier = make_company(ctx, case.mechanism, CompanyKind.SUPPLIER, name="Akter Garments")
    brand_a = make_company(ctx, case.mechanism, name="Brand Noord")
    first, other = _client(app, ctx, clock, lead), _client(app, ctx, clock, second)

    for company in (supplier, brand_a):
        assert _post(first, case, "add", {"company": company.id}).status_code == 303
    refused = _post(
        first, case, "register", {"name": "Brand Zuid", "kind": "brand", "country": "nl"}
    )
    assert refused.status_code == 303  # the country is read in capitals
    brand_b = ctx.session.scalar(select(Company).where(Company.name == "Brand Zuid"))
    assert involvement.current_involvement(ctx, case, brand_b) is not None
    bad = _post(first, case, "register", {"name": "Brand West", "kind": "brand", "country": "X"})
    assert bad.status_code == 422
    assert 'value="Brand West"' in bad.get_data(as_text=True)

    kinds = {supplier: "cause", brand_a: "contribute", brand_b: "linked"}
    for company, kind in kinds.items():
        response = _post(
            first, case, "propose",
            {"company": company.id, "kind": kind, "leverage": "held", "rationale": f"Why {kind}."},
        )  # fmt: skip
        assert response.status_code == 303
    page = first.get(f"/staff/reviewer/cases/{case.reference}/companies?lang=en").get_data(
        as_text=True
    )
    assert "You proposed it" in page
    # the second reviewer sees the proposals waiting, on the case page too
    case_page = other.get(f"/staff/reviewer/cases/{case.reference}?lang=en")
    assert "3 classifications wait for a second reviewer" in case_page.get_data(as_text=True)
    for proposal in involvement.pending_proposals(ctx, case):
        assert (
            _post(first, case, f"proposals/{proposal.id}", {"decision": "confirm"}).status_code
            == 422
        )
        assert (
            _post(other, case, f"proposals/{proposal.id}", {"decision": "confirm"}).status_code
            == 303
        )
    ctx.session.expire_all()
    for company, kind in kinds.items():
        assert involvement.current_involvement(ctx, case, company).kind is InvolvementKind(kind)
    site_page = first.get(f"/staff/reviewer/cases/{case.reference}/companies?lang=en")
    assert "Site of the harm" not in site_page.get_data(as_text=True)  # no sites yet


def test_a_reviewer_verifies_a_companys_report(app, ctx, clock):
    filed, lead, second = staff_case(ctx)
    case = filed.case
    supplier = make_company(ctx, case.mechanism, CompanyKind.SUPPLIER)
    involvement.add_company(ctx, case, supplier, Actor.for_user(lead))
    classify(ctx, case, supplier, InvolvementKind.CAUSE, lead, second)
    obligation = company_side.obligations_of(ctx, case, supplier.id)[0]
    user = make_user(ctx, Role.COMPANY, company=supplier)
    company_side.report_obligation(ctx, obligation, Actor.for_user(user), True, "Shifts ended.")
    client = _client(app, ctx, clock, second)
    back = _post(client, case, f"obligations/{obligation.id}", {"decision": "back", "note": ""})
    assert back.status_code == 422
    done = _post(client, case, f"obligations/{obligation.id}", {"decision": "accept"})
    assert done.status_code == 303
    ctx.session.expire_all()
    assert (
        company_side.obligations_of(ctx, case, supplier.id)[0].status is ObligationStatus.FULFILLED
    )
