"""The remedy plan's pages (issue #13, item 5): the reviewers' page drafts, asks,
approves with four eyes and verifies; the complainant answers on the follow-up page in
their language; the responsible company proposes and reports with an evidence photo.
Every action is a form with CSRF, over the services."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from grievance.models import (
    Attachment,
    ComplainantResponse,
    ConsultationAnswer,
    PlanState,
    RemedyAction,
    RemedyPlan,
    RemedyStatus,
    Role,
    Stage,
)
from grievance.services import involvement
from grievance.services.actors import Actor
from tests.factories import events_of, make_company, make_staff, staff_case, walk_to
from tests.integration.test_followup import _sign_in as followup_sign_in
from tests.integration.test_reviewer_workspace import _client
from tests.integration.test_staff_auth import sign_in


def _token(page: str) -> str:
    match = re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token"
    return match.group(1)


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def board(ctx, clock):
    filed, lead, second = staff_case(ctx)  # a Bengali complaint
    walk_to(ctx, filed, Stage.REMEDY_PLAN, lead, second)
    supplier = make_company(ctx, filed.case.mechanism, name="Nodirpar Knit Ltd")
    other = make_company(ctx, filed.case.mechanism, name="Elsewhere Ltd")
    involvement.add_company(ctx, filed.case, supplier, Actor.for_user(lead))
    company_user, company_seed = make_staff(ctx, Role.COMPANY, company=supplier)
    other_user, other_seed = make_staff(ctx, Role.COMPANY, company=other)
    ctx.session.commit()
    return filed, lead, second, supplier, (company_user, company_seed), (other_user, other_seed)


def _post(client, page_path: str, path: str, data: dict, **kwargs):
    page = client.get(page_path + "?lang=en").get_data(as_text=True)
    return client.post(path + "?lang=en", data={"csrf_token": _token(page), **data}, **kwargs)


def _prefixed(prefix: str, page_path: str, client, path: str, data: dict, **kwargs):
    page = client.get(page_path + "?lang=en").get_data(as_text=True)
    fields = {f"{prefix}-{name}": value for name, value in data.items()}
    return client.post(
        path + "?lang=en",
        data={f"{prefix}-csrf_token": _token(page), f"{prefix}-go": "1", **fields},
        **kwargs,
    )


def test_the_remedy_loop_through_the_pages(app, ctx, clock, board):
    filed, lead, second, supplier, (company_user, company_seed), (other_user, other_seed) = board
    case = filed.case
    remedy_path = f"/staff/reviewer/cases/{case.reference}/remedy"
    reviewer = _client(app, ctx, clock, lead)
    assert "The remedy plan" in reviewer.get(
        f"/staff/reviewer/cases/{case.reference}?lang=en"
    ).get_data(as_text=True)

    # a bad item comes back with its message and what was typed
    refused = _prefixed(
        "draft",
        remedy_path,
        reviewer,
        remedy_path + "/draft",
        {"remedy_type": "apology", "description": "", "company": str(supplier.id)},
    )
    assert refused.status_code == 422
    response = _prefixed(
        "draft",
        remedy_path,
        reviewer,
        remedy_path + "/draft",
        {
            "remedy_type": "compensation_financial",
            "description": "Back pay of the unpaid overtime.",
            "company": str(supplier.id),
            "share_percent": "100",
            "beneficiary_count": "212",
            "beneficiaries": "Sewing operators",
        },
    )
    assert response.status_code == 303
    item = ctx.session.scalars(select(RemedyAction).where(RemedyAction.case_id == case.id)).one()
    assert (item.beneficiary_count, item.share_percent) == (212, 100)

    # not approved before the complainant agrees
    refused = _prefixed(
        "propose_approval", remedy_path, reviewer, remedy_path + "/propose-approval",
        {"reason": "Ready."},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "has not agreed" in refused.get_data(as_text=True)
    assert _prefixed("put", remedy_path, reviewer, remedy_path + "/put", {}).status_code == 303

    # the complainant sees the plan in Bengali and agrees
    complainant = app.test_client()
    followup_sign_in(complainant, filed.receipt_code)
    page = complainant.get("/follow-up/case?lang=bn").get_data(as_text=True)
    assert "Back pay of the unpaid overtime." in page
    response = complainant.post(
        "/follow-up/remedy/plan", data={"csrf_token": _token(page), "plan-answer": "agree"}
    )
    assert response.status_code == 303
    plan = ctx.session.scalars(select(RemedyPlan).where(RemedyPlan.case_id == case.id)).one()
    ctx.session.refresh(plan)
    assert plan.consultation_answer is ConsultationAnswer.AGREE
    assert plan.consultation_channel == "web"

    # four eyes: the proposer cannot confirm; the second reviewer does
    assert (
        _prefixed(
            "propose_approval", remedy_path, reviewer, remedy_path + "/propose-approval",
            {"reason": "The complainant agreed."},
        ).status_code
        == 303
    )  # fmt: skip
    assert "Confirm approval" not in reviewer.get(remedy_path + "?lang=en").get_data(as_text=True)
    assert (
        _prefixed(
            "confirm_approval", remedy_path, reviewer, remedy_path + "/confirm-approval", {}
        ).status_code
        == 422
    )
    other_reviewer = _client(app, ctx, clock, second)
    assert (
        _prefixed(
            "confirm_approval", remedy_path, other_reviewer, remedy_path + "/confirm-approval", {}
        ).status_code
        == 303
    )
    ctx.session.refresh(case)
    assert case.stage is Stage.REMEDY_IMPLEMENTATION

    # a company not in the case gets nothing; the supplier reports with a photo
    company_path = f"/staff/company/cases/{case.reference}/remedy"
    outsider = app.test_client()
    sign_in(outsider, other_user, other_seed, clock)
    assert outsider.get(company_path).status_code == 404
    supplier_client = app.test_client()
    sign_in(supplier_client, company_user, company_seed, clock)
    page = supplier_client.get(company_path + "?lang=en").get_data(as_text=True)
    assert "Back pay of the unpaid overtime." in page
    response = _prefixed(
        "report",
        company_path,
        supplier_client,
        company_path + "/report",
        {"item": str(item.id), "note": "201 of 212 paid."},
    )
    assert response.status_code == 303  # progress, not done yet
    ctx.session.refresh(item)
    assert item.status is RemedyStatus.IN_PROGRESS
    page = supplier_client.get(company_path + "?lang=en").get_data(as_text=True)
    response = supplier_client.post(
        company_path + "/report?lang=en",
        data={
            "report-csrf_token": _token(page),
            "report-go": "1",
            "report-item": str(item.id),
            "report-note": "Paid into every worker's account.",
            "report-completed": "y",
            "files": (io.BytesIO(_photo()), "bank-slips.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    ctx.session.refresh(item)
    assert item.status is RemedyStatus.COMPLETED
    evidence = ctx.session.scalars(
        select(Attachment).where(Attachment.remedy_action_id == item.id)
    ).one()
    assert evidence.uploaded_by_role == "company"
    # no company verifies its own remedy: the reviewers' route refuses it (with a valid token)
    refused = _prefixed(
        "verify", company_path, supplier_client, remedy_path + "/verify", {"item": str(item.id)}
    )
    assert refused.status_code == 403
    ctx.session.refresh(item)
    assert item.verified_at is None

    # the reviewer sees the evidence and verifies
    page = other_reviewer.get(remedy_path + "?lang=en").get_data(as_text=True)
    assert f"/files/{evidence.id}" in page
    assert _prefixed(
        "verify", remedy_path, other_reviewer, remedy_path + "/verify",
        {"item": str(item.id), "note": "Bank slips seen."},
    ).status_code == 303  # fmt: skip

    # the complainant confirms on the web, in Bengali
    page = complainant.get("/follow-up/case?lang=bn").get_data(as_text=True)
    response = complainant.post(
        "/follow-up/remedy/items",
        data={"csrf_token": _token(page), "item-item": str(item.id), "item-response": "confirmed"},
    )
    assert response.status_code == 303
    ctx.session.refresh(item)
    assert item.complainant_response is ComplainantResponse.CONFIRMED
    assert events_of(ctx.session, case, "remedy_response")[-1].payload["channel"] == "web"
    assert plan.state is PlanState.APPROVED


def test_the_json_api_shows_the_plan_and_takes_the_answers(app, ctx, board):
    from grievance.services import remedy_delivery, remedy_plan

    filed, lead, second, supplier, (company_user, _), _other = board
    client = app.test_client()
    code = {"receipt_code": filed.receipt_code}
    assert client.post("/api/v1/followup/remedy", json=code).get_json() == {
        "asked": False,
        "answer": None,
        "approved": False,
        "items": [],
    }
    reviewer = Actor.for_user(lead)
    item = remedy_plan.draft_item(
        ctx,
        filed.case,
        reviewer,
        remedy_plan.ItemInput("apology", "A letter.", supplier.id, beneficiary_count=3),
    )
    remedy_plan.put_to_complainant(ctx, filed.case, reviewer)
    ctx.session.commit()
    plan = client.post("/api/v1/followup/remedy", json=code).get_json()
    assert plan["asked"] is True
    assert plan["items"][0]["description"] == "A letter."
    assert plan["items"][0]["beneficiary_count"] == 3
    refused = client.post("/api/v1/followup/remedy/answer", json={**code, "answer": "maybe"})
    assert refused.status_code == 422
    answered = client.post("/api/v1/followup/remedy/answer", json={**code, "answer": "agree"})
    assert answered.status_code == 200
    assert answered.get_json()["answer"] == "agree"
    remedy_plan.propose_approval(ctx, filed.case, reviewer, "Agreed.")
    remedy_plan.confirm_approval(ctx, filed.case, Actor.for_user(second))
    ctx.session.commit()
    too_early = client.post(
        "/api/v1/followup/remedy/items", json={**code, "item": item.id, "response": "confirmed"}
    )
    assert too_early.status_code == 422  # not reported done yet
    remedy_delivery.report_progress(
        ctx, item, Actor.for_user(company_user), "Sent.", completed=True
    )
    ctx.session.commit()
    done = client.post(
        "/api/v1/followup/remedy/items", json={**code, "item": item.id, "response": "disputed"}
    )
    assert done.status_code == 200
    assert done.get_json()["items"][0]["complainant_response"] == "disputed"
    ctx.session.refresh(item)
    assert item.complainant_response_channel == "api"
