"""The company portal (#13): a company user sees the cases their company is party to,
and on each only their company's side: never an identity, the complainant's words, nor
another company's private responses; they respond, answer their classification and
report on their obligations; refused input comes back with a message and kept."""

from __future__ import annotations

import re

import pytest

from grievance.models import CompanyKind, InvolvementKind, Leverage, Obligation, Role
from grievance.services import involvement
from grievance.services import obligations as company_side
from grievance.services.actors import Actor
from grievance.services.errors import NotAllowed
from tests.factories import classify, events_of, make_company, make_staff, staff_case
from tests.integration.test_staff_auth import sign_in

STATEMENT = "They kept our overtime pay for three months."


def token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, page
    return match.group(1)


@pytest.fixture
def portal(ctx, clock, app):
    filed, lead, second = staff_case(ctx, statement=STATEMENT)
    case = filed.case
    supplier = make_company(ctx, case.mechanism, CompanyKind.SUPPLIER, name="Akter Garments")
    brand = make_company(ctx, case.mechanism, name="Brand Noord")
    for company in (supplier, brand):
        involvement.add_company(ctx, case, company, Actor.for_user(lead))
    classify(ctx, case, supplier, InvolvementKind.CAUSE, lead, second, "Own overtime records.")
    classify(
        ctx, case, brand, InvolvementKind.LINKED, lead, second, "Buys from it.",
        leverage=Leverage.HELD,
    )  # fmt: skip
    user, seed = make_staff(ctx, Role.COMPANY, company=supplier)
    brand_user, _ = make_staff(ctx, Role.COMPANY, company=brand)
    company_side.respond(ctx, case, Actor.for_user(brand_user), "Brand's private answer.")
    client = app.test_client()
    sign_in(client, user, seed, clock)
    return case, client, supplier, brand


def test_the_case_list_and_page_show_only_the_company_side(portal):
    case, client, _supplier, _ = portal
    listing = client.get("/staff/company/?lang=en")
    assert listing.status_code == 200
    assert case.reference in listing.get_data(as_text=True)
    page = client.get(f"/staff/company/cases/{case.reference}?lang=en").get_data(as_text=True)
    assert "Causes the harm" in page
    assert "Own overtime records." in page
    assert "Cease or prevent the impact" in page
    assert "Remedy items" in page
    assert STATEMENT not in page
    assert "Brand's private answer." not in page
    assert "Buys from it." not in page  # another company's rationale


def test_a_company_user_reports_on_an_obligation(ctx, portal):
    case, client, supplier, _ = portal
    page = client.get(f"/staff/company/cases/{case.reference}?lang=en").get_data(as_text=True)
    obligation = company_side.obligations_of(ctx, case, supplier.id)[0]
    url = f"/staff/company/cases/{case.reference}/obligations/{obligation.id}?lang=en"
    refused = client.post(url, data={"csrf_token": token(page), "fulfilled": "yes", "reasons": " "})
    assert refused.status_code == 422
    assert "Give your reasons." in refused.get_data(as_text=True)
    done = client.post(
        url, data={"csrf_token": token(page), "fulfilled": "yes", "reasons": "Shifts ended."}
    )
    assert done.status_code == 303
    ctx.session.expire_all()
    assert ctx.session.get(Obligation, obligation.id).report == "Shifts ended."


def test_a_contest_without_reasons_keeps_the_choice_and_asks_for_them(ctx, portal):
    case, client, _, _ = portal
    page = client.get(f"/staff/company/cases/{case.reference}?lang=en").get_data(as_text=True)
    url = f"/staff/company/cases/{case.reference}/classification?lang=en"
    refused = client.post(url, data={"csrf_token": token(page), "answer": "contest", "reasons": ""})
    assert refused.status_code == 422
    assert 'value="contest" checked' in refused.get_data(as_text=True)
    done = client.post(
        url, data={"csrf_token": token(page), "answer": "contest", "reasons": "We are linked."}
    )
    assert done.status_code == 303
    assert events_of(ctx.session, case, "classification_answered")[-1].payload["accepted"] is False


def test_a_case_of_another_company_is_a_404(ctx, portal, app, clock):
    _case, client, _, _ = portal
    other_filed, _, _ = staff_case(ctx)
    assert client.get(f"/staff/company/cases/{other_filed.case.reference}").status_code == 404
    assert client.get("/staff/company/cases/NOPE-1").status_code == 404


def test_evidence_files_are_stripped_sealed_and_never_the_complainants(ctx, portal, app, clock):
    import io

    from PIL import Image

    from grievance.models import Attachment
    from grievance.services import casereads

    case, client, supplier, _ = portal
    picture = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "Camera maker with a name"
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif)
    page = client.get(f"/staff/company/cases/{case.reference}?lang=en").get_data(as_text=True)
    obligation = company_side.obligations_of(ctx, case, supplier.id)[0]
    url = f"/staff/company/cases/{case.reference}/obligations/{obligation.id}?lang=en"
    refused = client.post(
        url,
        data={
            "csrf_token": token(page), "fulfilled": "yes", "reasons": "",
            "files": (io.BytesIO(buffer.getvalue()), "site-photo.jpg"),
        },
        content_type="multipart/form-data",
    )  # fmt: skip
    assert refused.status_code == 422
    assert "site-photo.jpg" in refused.get_data(as_text=True)  # kept, held for the next try
    held = re.search(r'name="held" value="([^"]+)"', refused.get_data(as_text=True)).group(1)
    done = client.post(
        url,
        data={"csrf_token": token(page), "fulfilled": "yes", "reasons": "Fixed.", "held": held},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    ctx.session.expire_all()
    (evidence,) = ctx.session.query(Attachment).filter_by(obligation_id=obligation.id).all()
    assert b"Camera maker" not in evidence.content_enc  # sealed
    kept = attachments_read(ctx, evidence)
    assert b"Camera maker" not in kept.data  # stripped
    complainant = casereads.complainant_view(ctx, case, case.complainants[0])
    assert evidence.id not in {f.id for f in complainant.files}
    from grievance.services import attachments

    with pytest.raises(NotAllowed):
        attachments.read_attachment(ctx, Actor.for_complainant(case.complainants[0]), evidence)


def attachments_read(ctx, evidence):
    from grievance.services import attachments

    reviewer = next(iter(cases_assigned(ctx, evidence.case_id)))
    return attachments.read_attachment(ctx, Actor.for_user(reviewer), evidence)


def cases_assigned(ctx, case_id):
    from grievance.models import Case, User
    from grievance.services import cases

    case = ctx.session.get(Case, case_id)
    return [
        ctx.session.get(User, a.reviewer_id) for a in cases.active_assignments(ctx, case).values()
    ]
