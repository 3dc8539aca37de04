"""The reviewer's workspace (issue #5): the queue (order, filters, keyset pages), the case
page (only for its assigned reviewers), and each action through its form, written to
the case log; four eyes; revealing an identity; refusals that keep what was typed."""

from __future__ import annotations

import base64
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from grievance.models import (
    Anonymity,
    Case,
    Channel,
    ComplainantKind,
    ContactChannel,
    Deadline,
    DeadlineState,
    Direction,
    Message,
    ProposalState,
    ReprisalRisk,
    Role,
    Stage,
    Translation,
    Visibility,
)
from grievance.services import (
    accounts,
    attachments,
    cases,
    involvement,
    messages,
    queue,
    timekeeping,
)
from grievance.services import workspace as workspace_service
from grievance.services.actors import SYSTEM, Actor
from grievance.services.attachments import check_file
from grievance.services.filing import ComplainantDetails
from grievance.services.workspace import QueueFilters, QueueKey, reviewer_queue
from tests.conftest import START
from tests.factories import (
    events_of,
    make_company,
    make_mechanism,
    make_reviewer,
    make_staff,
    new_case,
    put_reviewers,
    staff_case,
    walk_to,
)
from tests.integration.test_staff_auth import sign_in
from tests.media import pdf_document

STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।"
NAME = "Rahima Begum"
PHONE = "+8801711000001"
PDF = pdf_document("payslip of March, line 4")


# -- helpers --------------------------------------------------------------------------------


def _client(app, ctx, clock, user):
    """A test client signed in as `user` (a reviewer made by the factories: enrolled here)."""
    import secrets

    if user.totp_secret_enc is None:
        seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
        ctx.session.flush()
        user._test_seed = seed  # type: ignore[attr-defined]
    client = app.test_client()
    response = sign_in(client, user, user._test_seed, clock)  # type: ignore[attr-defined]
    assert response.headers["Location"].endswith("/staff"), response.get_data(as_text=True)
    return client


def _token(page: str) -> str:
    match = re.search(r'name="(?:[\w-]+-)?csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if match is None:
        match = re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _page(client, path: str) -> str:
    response = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    return response.get_data(as_text=True)


def _act(client, case: Case, action: str, prefix: str, data: dict | None = None):
    """POST one action's form of the case page, with that form's field names."""
    page = _page(client, "/staff/reviewer/")
    fields = {f"{prefix}-{name}": value for name, value in (data or {}).items()}
    return client.post(
        f"/staff/reviewer/cases/{case.reference}/{action}?lang=en",
        data={f"{prefix}-csrf_token": _token(page), **fields},
    )


def _case_path(case: Case) -> str:
    return f"/staff/reviewer/cases/{case.reference}"


def _kinds(ctx, case: Case) -> list[str]:
    return [event.kind for event in events_of(ctx.session, case)]


@pytest.fixture
def board(ctx):
    """A confidential complainant's case with its lead and second reviewer, a company in
    it, and a reviewer who is not on it."""
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL,
        kind=ComplainantKind.AFFECTED,
        contact_channel=ContactChannel.SMS,
        contact_address=PHONE,
        name=NAME,
        details="Sewing operator, line 4",
    )
    filed, lead, second = staff_case(ctx, complainant=person, location="Gazipur, line 4")
    company = make_company(ctx, filed.case.mechanism, name="Dhaka Knitwear")
    involvement.add_company(ctx, filed.case, company, SYSTEM)
    outsider = make_reviewer(ctx, languages=["bn"])
    return filed, lead, second, outsider


# -- the queue, as a service ------------------------------------------------------------------


def _cases_for(ctx, count: int, mechanism=None, **overrides):
    """`count` cases with the same two reviewers."""
    lead = make_reviewer(ctx, languages=["bn"])
    second = make_reviewer(ctx, languages=["bn"])
    mechanism = mechanism or make_mechanism(ctx, code="QUE")
    made = []
    for _ in range(count):
        filed = new_case(ctx, mechanism, **overrides)
        put_reviewers(ctx, filed.case, lead, second)
        made.append(filed.case)
    return made, lead, second


def _set_keys(ctx, case: Case, rank: int, due) -> None:
    case.queue_rank = rank
    case.next_due_at = due
    ctx.session.flush()


def test_the_queue_orders_by_rank_then_due_time_with_none_last_then_id(ctx):
    made, lead, _ = _cases_for(ctx, 6)
    a, b, c, d, e, f = made
    day = timedelta(days=1)
    _set_keys(ctx, a, 0, None)
    _set_keys(ctx, b, 0, START + day)
    _set_keys(ctx, c, 0, START + day)  # ties with b: the id decides
    _set_keys(ctx, d, 1000, START + 2 * day)
    _set_keys(ctx, e, 1000, None)
    _set_keys(ctx, f, 2124, START)
    page = reviewer_queue(ctx, lead.id)
    assert [row.case_id for row in page.rows] == [b.id, c.id, a.id, d.id, e.id, f.id]
    assert page.next_key is None


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_keyset_pages_continue_exactly_where_the_last_one_stopped(ctx, size):
    made, lead, _ = _cases_for(ctx, 7)
    day = timedelta(days=1)
    keys = [(0, None), (0, START + day), (0, START + day), (0, START + day), (1000, None)]
    keys += [(1000, None), (2124, START)]
    for case, (rank, due) in zip(made, keys, strict=True):
        _set_keys(ctx, case, rank, due)
    everything = [row.case_id for row in reviewer_queue(ctx, lead.id, limit=50).rows]
    assert len(everything) == 7
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = reviewer_queue(ctx, lead.id, after=after, limit=size)
        assert len(page.rows) <= size
        seen += [row.case_id for row in page.rows]
        pages += 1
        if page.next_key is None:
            break
        # what a browser sends back: the token, not the key
        after = QueueKey.from_token(page.next_key.token())
    assert seen == everything  # nothing skipped, nothing twice, across ties and nulls
    assert pages == -(-7 // size)


def test_the_queue_holds_only_the_reviewers_current_cases(ctx):
    (mine, left), lead, second = _cases_for(ctx, 2)
    theirs, _, _ = staff_case(ctx)
    cases.recuse(ctx, left, Actor.for_user(lead), "I know the factory owner.")
    ids = [row.case_id for row in reviewer_queue(ctx, lead.id).rows]
    assert ids == [mine.id]
    assert theirs.case.id not in ids
    assert {row.case_id for row in reviewer_queue(ctx, second.id).rows} == {mine.id, left.id}


def test_the_queue_filters(ctx, clock):
    tex, other = make_mechanism(ctx, code="FTX"), make_mechanism(ctx, code="FOT")
    lead, second = make_reviewer(ctx, languages=["bn", "ta"]), make_reviewer(ctx)

    def case(mechanism, **overrides):
        filed = new_case(ctx, mechanism, **overrides)
        put_reviewers(ctx, filed.case, lead, second)
        return filed

    plain = case(tex)
    tamil = case(tex, language="ta", statement="எங்களுக்கு சம்பளம் கொடுக்கவில்லை.")
    urgent = case(tex, urgent=True)
    # an urgent theme is urgent until assessed; assessed as remediable, it no longer is
    # (#15, item 8: urgency ranks, it does not flood the queue)
    child_labour = case(tex, themes=["child_labour"])
    unassessed_theme = case(tex, themes=["forced_labour"])
    cases.assess_severity(
        ctx,
        child_labour.case,
        Actor.for_user(lead),
        scale=2,
        scope=2,
        irremediability=1,
        likelihood=2,
    )
    elsewhere = case(other)
    acknowledged = case(tex)
    cases.transition(ctx, acknowledged.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    ended = case(tex)
    walk_to(ctx, ended, Stage.CLOSED, lead, second)
    clock.set(START + timedelta(days=8))  # acknowledgement was due within 7 days

    def ids(**filters) -> set[int]:
        return {row.case_id for row in reviewer_queue(ctx, lead.id, QueueFilters(**filters)).rows}

    open_cases = {plain, tamil, urgent, child_labour, unassessed_theme, elsewhere, acknowledged}
    assert ids() == {filed.case.id for filed in open_cases}  # ended cases left out
    assert ended.case.id in ids(include_ended=True)
    assert ids(stage=Stage.CLOSED) == {ended.case.id}
    assert ids(stage=Stage.ACKNOWLEDGED) == {acknowledged.case.id}
    assert ids(mechanism="FOT") == {elsewhere.case.id}
    assert ids(language="ta") == {tamil.case.id}
    assert ids(urgent=True) == {urgent.case.id, unassessed_theme.case.id}
    why = {
        row.case_id: (row.urgent_reasons, row.urgent_theme)
        for row in reviewer_queue(ctx, lead.id, QueueFilters(urgent=True)).rows
    }
    assert why == {
        urgent.case.id: ((queue.UrgencyReason.DANGER,), None),
        unassessed_theme.case.id: ((queue.UrgencyReason.URGENT_THEME,), "forced_labour"),
    }
    overdue = {plain, tamil, urgent, child_labour, unassessed_theme, elsewhere}
    assert ids(overdue=True) == {filed.case.id for filed in overdue}
    assert ids(overdue=True, mechanism="FTX", language="bn") == {
        plain.case.id,
        urgent.case.id,
        child_labour.case.id,
        unassessed_theme.case.id,
    }
    rows = {row.case_id: row for row in reviewer_queue(ctx, lead.id).rows}
    assert rows[plain.case.id].overdue
    assert not rows[acknowledged.case.id].overdue
    assert rows[urgent.case.id].urgent
    assert not rows[child_labour.case.id].urgent
    assert not rows[plain.case.id].urgent
    choices = workspace_service.queue_choices(ctx, lead.id)
    assert [code for code, _ in choices.mechanisms] == ["FOT", "FTX"]
    assert choices.languages == ["bn", "ta"]


# -- the queue page ---------------------------------------------------------------------------


def test_the_queue_page_lists_the_cases_in_order_without_statement_or_identity(
    app, ctx, clock, board
):
    filed, lead, _second, _outsider = board
    urgent = new_case(ctx, filed.case.mechanism, urgent=True)
    put_reviewers(ctx, urgent.case, lead, make_reviewer(ctx, languages=["bn"]))
    client = _client(app, ctx, clock, lead)
    response = client.get("/staff/reviewer/?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index(urgent.case.reference) < page.index(filed.case.reference)
    assert "Urgent" in page
    assert "Received" in page  # the stage, translated
    assert "বাংলা" in page  # the language, by its name
    assert "Lead reviewer" in page
    for secret in (STATEMENT, NAME, PHONE, "Gazipur", "Sewing operator"):
        assert secret not in page
    assert 'rel="next"' not in page  # one page only
    # the site's language links stay whole beside the queue's own language filter
    assert 'href="?lang="' not in page
    assert 'href="?lang=bn" lang="bn"' in page


def test_the_queue_page_pages_by_token_and_refuses_a_forged_one(app, ctx, clock, monkeypatch):
    monkeypatch.setattr(workspace_service, "PAGE_SIZE", 2)
    made, lead, _ = _cases_for(ctx, 5)
    for case in made:
        _set_keys(ctx, case, 1000, None)  # all tied: the id decides
    client = _client(app, ctx, clock, lead)
    seen = []
    path = "/staff/reviewer/?lang=en"
    while path:
        page = client.get(path).get_data(as_text=True)
        found = re.findall(r'href="/staff/reviewer/cases/([^"]+)"', page)
        assert len(found) <= 2
        seen += found
        link = re.search(r'href="([^"]+)" rel="next"', page)
        path = html.unescape(link.group(1)) if link else ""
        assert "offset" not in path
    assert seen == [case.reference for case in sorted(made, key=lambda c: c.id)]
    cut = base64.urlsafe_b64encode(b"q1.1000.n").decode().rstrip("=")
    other_version = base64.urlsafe_b64encode(b"q2.1000.n.1").decode().rstrip("=")
    for forged in ("x", cut, other_version, "q1.0.n.1", "%00", "A" * 500, "cTEuLTEuLS4x"):
        response = client.get(f"/staff/reviewer/?after={forged}")
        assert response.status_code == 400, forged
    beyond = QueueKey(2**31 - 1, None, 2**31 - 1).token()  # well formed: past every case
    response = client.get(f"/staff/reviewer/?after={beyond}&lang=en")
    assert response.status_code == 200
    assert "No case matches." in response.get_data(as_text=True)


def test_the_queue_page_filters_keep_in_the_next_link(app, ctx, clock, monkeypatch):
    monkeypatch.setattr(workspace_service, "PAGE_SIZE", 1)
    made, lead, _ = _cases_for(ctx, 3)
    for urgent in made[:2]:
        urgent.urgent = True  # someone in danger: the first band
        queue.refresh_queue_rank(urgent, ctx.case_policy(urgent))
    ctx.session.flush()
    client = _client(app, ctx, clock, lead)
    page = client.get("/staff/reviewer/?urgent=1&lang=en").get_data(as_text=True)
    link = html.unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))
    assert "urgent=1" in link
    second_page = client.get(link).get_data(as_text=True)
    assert made[1].reference in second_page
    assert made[2].reference not in second_page
    assert 'rel="next"' not in second_page


# -- who may see what -------------------------------------------------------------------------

ACTIONS = [
    ("acknowledge", "acknowledge"),
    ("messages", "message"),
    ("request-information", "information"),
    ("resume", "resume"),
    ("severity", "severity"),
    ("reprisal-risk", "risk"),
    ("move", "move"),
    ("proposal/confirm", "confirm"),
    ("proposal/withdraw", "withdraw"),
    ("recuse", "recuse"),
    ("translations", "translation"),
    ("complainants/{complainant}/reveal", "reveal"),
    ("files/{file}", None),
]


def test_a_reviewer_not_on_the_case_gets_404_everywhere(app, ctx, clock, board):
    filed, _lead, _second, outsider = board
    [attached] = attachments.attach(
        ctx, filed.case, Actor.for_complainant(filed.complainant), [check_file("pay.pdf", PDF)]
    )
    before = len(events_of(ctx.session, filed.case))
    client = _client(app, ctx, clock, outsider)
    assert client.get(_case_path(filed.case)).status_code == 404
    assert client.get("/staff/reviewer/cases/TEX-2026-99999").status_code == 404  # none such
    token = _token(_page(client, "/staff/reviewer/"))
    for action, prefix in ACTIONS:
        path = f"{_case_path(filed.case)}/" + action.format(
            complainant=filed.complainant.id, file=attached.id
        )
        if prefix is None:
            response = client.get(path)
        else:
            prefix = f"reveal{filed.complainant.id}" if prefix == "reveal" else prefix
            response = client.post(
                path,
                data={f"{prefix}-csrf_token": token, f"{prefix}-reason": "Curious.", "x": "y"},
            )
        assert response.status_code == 404, action
        assert NAME not in response.get_data(as_text=True)
    assert len(events_of(ctx.session, filed.case)) == before


@pytest.mark.parametrize("role", [Role.COMPANY, Role.SECRETARIAT, Role.ADMIN])
def test_other_roles_are_refused(app, ctx, clock, board, role):
    filed, *_ = board
    mechanisms = [filed.case.mechanism] if role is Role.SECRETARIAT else None
    user, seed = make_staff(ctx, role, mechanisms=mechanisms)
    client = app.test_client()
    sign_in(client, user, seed, clock)
    for path in ("/staff/reviewer/", _case_path(filed.case)):
        response = client.get(path)
        assert response.status_code == 403
        assert filed.case.reference not in response.get_data(as_text=True)


def test_without_signing_in_the_pages_ask_for_it(app, board):
    filed, *_ = board
    for path in ("/staff/reviewer/", _case_path(filed.case)):
        response = app.test_client().get(path)
        assert response.status_code == 302
        assert "/staff/sign-in" in response.headers["Location"]


# -- the case page ----------------------------------------------------------------------------


def test_the_case_page_shows_the_case_to_its_reviewer(app, ctx, clock, board):
    filed, lead, second, _ = board
    case = filed.case
    messages.add_message(
        ctx, case, Actor.for_complainant(filed.complainant), "They cut our pay again.", Channel.WEB
    )
    messages.add_message(ctx, case, Actor.for_user(second), "Since when?", Channel.WEB)
    attachments.attach(
        ctx, case, Actor.for_complainant(filed.complainant), [check_file("payslip.pdf", PDF)]
    )
    client = _client(app, ctx, clock, lead)
    response = client.get(_case_path(case) + "?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<p dir="auto" lang="bn" class="body">{STATEMENT}</p>' in page
    assert "Gazipur, line 4" in page  # the complainant's words of where
    assert "They cut our pay again." in page
    assert "Since when?" in page
    assert second.display_name in page
    assert "payslip.pdf" in page
    assert "Dhaka Knitwear" in page
    assert "Not classified yet" in page
    assert "Confidential: reviewers may know, companies may not" in page
    assert "Acknowledge receipt" in page  # the time limit running, and the action
    assert "Complaint filed" in page  # the log
    for secret in (NAME, PHONE, "Sewing operator"):
        assert secret not in page  # only the reveal action shows them
    offered = set(re.findall(r'name="move-target"[^>]*value="([a-z_]+)"', page))
    assert offered == {"acknowledged", "withdrawn"}


def test_a_file_downloads_for_the_reviewer(app, ctx, clock, board):
    filed, lead, *_ = board
    [attached] = attachments.attach(
        ctx, filed.case, Actor.for_complainant(filed.complainant), [check_file("pay.pdf", PDF)]
    )
    client = _client(app, ctx, clock, lead)
    response = client.get(f"{_case_path(filed.case)}/files/{attached.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    other, *_ = staff_case(ctx)
    [elsewhere] = attachments.attach(
        ctx, other.case, Actor.for_complainant(other.complainant), [check_file("x.pdf", PDF)]
    )
    assert client.get(f"{_case_path(filed.case)}/files/{elsewhere.id}").status_code == 404


# -- actions ----------------------------------------------------------------------------------


def test_acknowledge(app, ctx, clock, board):
    filed, lead, *_ = board
    client = _client(app, ctx, clock, lead)
    response = _act(client, filed.case, "acknowledge", "acknowledge")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(_case_path(filed.case))
    ctx.session.refresh(filed.case)
    assert filed.case.stage is Stage.ACKNOWLEDGED
    last = events_of(ctx.session, filed.case)[-1]
    assert (last.kind, last.stage_to, last.actor_id) == (
        "stage_changed",
        Stage.ACKNOWLEDGED,
        lead.id,
    )
    assert "Receipt acknowledged." in _page(client, _case_path(filed.case))
    again = _act(client, filed.case, "acknowledge", "acknowledge")
    assert again.status_code == 422
    assert "This step is not possible from the case" in again.get_data(as_text=True)


def test_message_the_complainant_queues_a_text_and_marks_feedback(app, ctx, clock, board):
    from grievance.models import OutboundMessage

    filed, lead, *_ = board
    client = _client(app, ctx, clock, lead)
    response = _act(
        client, filed.case, "messages", "message", {"body": "We visit on Monday.", "feedback": "y"}
    )
    assert response.status_code == 303
    message = ctx.session.scalars(select(Message).where(Message.case_id == filed.case.id)).one()
    assert message.direction is Direction.TO_COMPLAINANT
    assert messages.read_message(ctx, message) == "We visit on Monday."
    assert _kinds(ctx, filed.case)[-1] == "feedback_given"
    outbox = ctx.session.scalars(
        select(OutboundMessage).where(OutboundMessage.message_id == message.id)
    ).all()
    assert len(outbox) == 1  # on the complainant's channel: SMS
    page = _page(client, _case_path(filed.case))
    assert "We visit on Monday." in page
    assert "feedback on the action envisaged or taken" in page
    plain = _act(client, filed.case, "messages", "message", {"body": "And on Tuesday."})
    assert plain.status_code == 303
    assert _kinds(ctx, filed.case)[-1] == "message_to_complainant"
    empty = _act(client, filed.case, "messages", "message", {"body": "   "})
    assert empty.status_code == 422
    assert "Write a message." in empty.get_data(as_text=True)


def test_request_information_stops_the_clock_and_resume_restarts_it(app, ctx, clock, board):
    filed, lead, *_ = board
    client = _client(app, ctx, clock, lead)
    response = _act(
        client, filed.case, "request-information", "information", {"reason": "Which month?"}
    )
    assert response.status_code == 303
    ctx.session.refresh(filed.case)
    assert filed.case.clock_paused_at == clock.now()
    event = events_of(ctx.session, filed.case, "clock_paused")[-1]
    assert event.payload["reason"] == "Which month?"
    page = _page(client, _case_path(filed.case))
    assert "Restart the time limits" in page
    # asked again while stopped: refused, and what was typed is still there
    again = _act(
        client, filed.case, "request-information", "information", {"reason": "And the year?"}
    )
    assert again.status_code == 422
    text = again.get_data(as_text=True)
    assert "The time limits are stopped already, or the case has ended." in text
    assert "And the year?</textarea>" in text
    assert len(events_of(ctx.session, filed.case, "clock_paused")) == 1
    resumed = _act(client, filed.case, "resume", "resume")
    assert resumed.status_code == 303
    ctx.session.refresh(filed.case)
    assert filed.case.clock_paused_at is None
    assert _kinds(ctx, filed.case)[-1] == "clock_resumed"


def test_request_information_needs_a_reason(app, ctx, clock, board):
    filed, lead, *_ = board
    client = _client(app, ctx, clock, lead)
    response = _act(client, filed.case, "request-information", "information", {"reason": " "})
    assert response.status_code == 422
    assert "Give your reasons." in response.get_data(as_text=True)
    assert events_of(ctx.session, filed.case, "clock_paused") == []


def test_assessments(app, ctx, clock, board):
    filed, lead, *_ = board
    client = _client(app, ctx, clock, lead)
    scores = {"scale": "3", "scope": "2", "irremediability": "5", "likelihood": "4"}
    assert _act(client, filed.case, "severity", "severity", scores).status_code == 303
    event = events_of(ctx.session, filed.case, "severity_assessed")[-1]
    assert event.payload == {"scale": 3, "scope": 2, "irremediability": 5, "likelihood": 4}
    ctx.session.refresh(filed.case)
    assert filed.case.queue_rank < 1000  # irremediable: first band
    page = _page(client, _case_path(filed.case))
    assert '<option selected value="5">5</option>' in page  # the form shows the assessment
    wrong = _act(client, filed.case, "severity", "severity", {**scores, "scope": "9"})
    assert wrong.status_code == 422
    assert "Not a valid choice." in wrong.get_data(as_text=True)
    assert len(events_of(ctx.session, filed.case, "severity_assessed")) == 1
    assert _act(client, filed.case, "reprisal-risk", "risk", {"level": "high"}).status_code == 303
    ctx.session.refresh(filed.case)
    assert filed.case.reprisal_risk is ReprisalRisk.HIGH
    assert events_of(ctx.session, filed.case, "reprisal_risk_assessed")[-1].payload == {
        "level": "high"
    }


def test_moves_offered_are_the_lifecycles_and_reasons_are_asked_where_required(
    app, ctx, clock, board
):
    filed, lead, *_ = board
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, Actor.for_user(lead))
    client = _client(app, ctx, clock, lead)
    page = _page(client, _case_path(case))
    offered = set(re.findall(r'name="move-target"[^>]*value="([a-z_]+)"', page))
    assert offered == {"investigation", "dialogue", "inadmissible", "referred", "withdrawn"}
    before = len(events_of(ctx.session, case))
    refused = _act(client, case, "move", "move", {"target": "investigation", "reason": ""})
    assert refused.status_code == 422
    assert "Give your reasons." in refused.get_data(as_text=True)
    assert len(events_of(ctx.session, case)) == before
    not_offered = _act(client, case, "move", "move", {"target": "closed", "reason": "x"})
    assert not_offered.status_code == 422
    done = _act(
        client, case, "move", "move", {"target": "investigation", "reason": "Within our scope."}
    )
    assert done.status_code == 303
    ctx.session.refresh(case)
    assert case.stage is Stage.INVESTIGATION
    last = events_of(ctx.session, case)[-1]
    assert (last.kind, last.payload["reason"]) == ("stage_changed", "Within our scope.")


def test_four_eyes_proposal_and_confirmation(app, ctx, clock, board):
    filed, lead, second, _ = board
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, Actor.for_user(lead))
    lead_client = _client(app, ctx, clock, lead)
    reasons = "Outside the covenant: the buyer left in 2024."
    proposed = _act(
        lead_client, case, "move", "move", {"target": "inadmissible", "reason": reasons}
    )
    assert proposed.status_code == 303
    ctx.session.refresh(case)
    assert case.stage is Stage.ADMISSIBILITY  # not in force yet
    proposal = cases._pending_proposal(ctx, case)
    assert proposal is not None
    assert proposal.proposed_by_id == lead.id
    # the proposer's own confirmation is refused, and changes nothing
    page = _page(lead_client, _case_path(case))
    assert "Confirm the decision" not in page
    own = _act(lead_client, case, "proposal/confirm", "confirm", {"proposal": str(proposal.id)})
    assert own.status_code == 422
    assert "You proposed this decision" in own.get_data(as_text=True)
    ctx.session.refresh(case)
    assert case.stage is Stage.ADMISSIBILITY
    # a second proposal waits for the first
    twice = _act(
        lead_client, case, "move", "move", {"target": "referred", "reason": "Better placed: ILO."}
    )
    assert twice.status_code == 422
    text = twice.get_data(as_text=True)
    assert "Another decision is waiting for confirmation" in text
    assert "Better placed: ILO.</textarea>" in text  # what was typed is kept
    second_client = _client(app, ctx, clock, second)
    page = _page(second_client, _case_path(case))
    assert "Decision waiting for a second reviewer" in page
    assert reasons in page
    stale = _act(second_client, case, "proposal/confirm", "confirm", {"proposal": "0"})
    assert stale.status_code == 422
    confirmed = _act(
        second_client, case, "proposal/confirm", "confirm", {"proposal": str(proposal.id)}
    )
    assert confirmed.status_code == 303
    ctx.session.refresh(case)
    ctx.session.refresh(proposal)
    assert case.stage is Stage.INADMISSIBLE
    assert proposal.state is ProposalState.CONFIRMED
    assert proposal.decided_by_id == second.id
    proposed_event = events_of(ctx.session, case, "decision_proposed")[-1]
    assert proposed_event.actor_id == lead.id
    changed = events_of(ctx.session, case, "stage_changed")[-1]
    assert changed.actor_id == second.id
    assert changed.payload["proposed_by"] == lead.id
    assert changed.payload["proposal_id"] == proposal.id


def test_either_reviewer_withdraws_a_proposal_with_reasons(app, ctx, clock, board):
    filed, lead, second, _ = board
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, Actor.for_user(lead))
    proposal = cases.propose_decision(ctx, case, Stage.REFERRED, Actor.for_user(lead), "ILO.")
    client = _client(app, ctx, clock, second)
    data = {"proposal": str(proposal.id), "reason": ""}
    refused = _act(client, case, "proposal/withdraw", "withdraw", data)
    assert refused.status_code == 422
    assert "Give your reasons." in refused.get_data(as_text=True)
    data["reason"] = "We have not heard the supplier yet."
    assert _act(client, case, "proposal/withdraw", "withdraw", data).status_code == 303
    ctx.session.refresh(proposal)
    assert proposal.state is ProposalState.WITHDRAWN
    event = events_of(ctx.session, case, "decision_withdrawn")[-1]
    assert (event.actor_id, event.payload["reason"]) == (second.id, data["reason"])


def test_recuse_hands_the_case_on_and_closes_it_to_the_reviewer(app, ctx, clock, board):
    filed, lead, _second, outsider = board
    client = _client(app, ctx, clock, lead)
    refused = _act(client, filed.case, "recuse", "recuse", {"reason": ""})
    assert refused.status_code == 422
    response = _act(client, filed.case, "recuse", "recuse", {"reason": "My cousin runs it."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/reviewer/")
    unassigned = events_of(ctx.session, filed.case, "reviewer_unassigned")[-1]
    assert unassigned.payload["reviewer_id"] == lead.id
    assert unassigned.payload["reason"] == "recused: My cousin runs it."
    assigned = events_of(ctx.session, filed.case, "reviewer_assigned")[-1]
    assert (assigned.payload["reviewer_id"], assigned.payload["role"]) == (outsider.id, "lead")
    assert client.get(_case_path(filed.case)).status_code == 404
    queue_page = _page(client, "/staff/reviewer/")
    assert f"You are no longer on case {filed.case.reference}." in queue_page


def test_reveal_needs_a_reason_and_is_an_internal_event(app, ctx, clock, board):
    filed, lead, *_ = board
    client = _client(app, ctx, clock, lead)
    prefix = f"reveal{filed.complainant.id}"
    action = f"complainants/{filed.complainant.id}/reveal"
    refused = _act(client, filed.case, action, prefix, {"reason": ""})
    assert refused.status_code == 422
    assert NAME not in refused.get_data(as_text=True)
    assert events_of(ctx.session, filed.case, "identity_revealed") == []
    response = _act(client, filed.case, action, prefix, {"reason": "To call her about the visit."})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert NAME in page
    assert PHONE in page
    assert response.headers["Cache-Control"] == "no-store"
    assert NAME not in response.headers.get("Location", "")
    [event] = events_of(ctx.session, filed.case, "identity_revealed")
    assert event.visibility is Visibility.INTERNAL
    assert event.actor_id == lead.id
    assert event.payload["reason"] == "To call her about the visit."
    # the log on the case page leaves internal events out
    case_page = _page(client, _case_path(filed.case))
    assert "To call her about the visit." not in case_page
    assert NAME not in case_page


def test_an_anonymous_complainant_cannot_be_revealed(app, ctx, clock):
    filed, lead, _ = staff_case(ctx)
    client = _client(app, ctx, clock, lead)
    page = _page(client, _case_path(filed.case))
    assert "Show who they are" not in page
    prefix = f"reveal{filed.complainant.id}"
    action = f"complainants/{filed.complainant.id}/reveal"
    response = _act(client, filed.case, action, prefix, {"reason": "Curious."})
    assert response.status_code == 422
    assert "chose to stay anonymous" in response.get_data(as_text=True)
    assert events_of(ctx.session, filed.case, "identity_revealed") == []


def test_translations_are_sealed_attached_and_logged(app, ctx, clock, board):
    filed, lead, second, _ = board
    message = messages.add_message(
        ctx, filed.case, Actor.for_complainant(filed.complainant), "আবার বেতন কেটেছে।", Channel.SMS
    )
    client = _client(app, ctx, clock, lead)
    english = "Our overtime for three months was not paid."
    data = {"source": "statement", "language": "en", "text": english}
    assert _act(client, filed.case, "translations", "translation", data).status_code == 303
    data = {"source": str(message.id), "language": "en", "text": "They cut our pay again."}
    assert _act(client, filed.case, "translations", "translation", data).status_code == 303
    rows = ctx.session.scalars(
        select(Translation).where(Translation.case_id == filed.case.id).order_by(Translation.id)
    ).all()
    assert [(row.message_id, row.language, row.translator_id) for row in rows] == [
        (None, "en", lead.id),
        (message.id, "en", lead.id),
    ]
    assert english.encode() not in rows[0].text_enc  # sealed
    events = events_of(ctx.session, filed.case, "translation_added")
    assert [event.payload for event in events] == [
        {"translation_id": rows[0].id, "language": "en"},
        {"translation_id": rows[1].id, "language": "en", "message_id": message.id},
    ]
    assert all(event.visibility is Visibility.REVIEWERS for event in events)
    page = _page(_client(app, ctx, clock, second), _case_path(filed.case))
    assert english in page
    assert "They cut our pay again." in page
    assert f"Translation into English by {lead.display_name}" in page
    assert STATEMENT in page  # the original is kept
    empty = _act(client, filed.case, "translations", "translation", {**data, "text": ""})
    assert empty.status_code == 422
    assert "Write the translation." in empty.get_data(as_text=True)


def test_a_translation_needs_an_assigned_reviewer(ctx, board):
    from grievance.services import translations
    from grievance.services.errors import NotAllowed

    filed, _lead, _second, outsider = board
    with pytest.raises(NotAllowed):
        translations.add_translation(ctx, filed.case, Actor.for_user(outsider), "en", "Hello.")
    with pytest.raises(NotAllowed):
        translations.add_translation(ctx, filed.case, SYSTEM, "en", "Hello.")
    assert events_of(ctx.session, filed.case, "translation_added") == []


def test_a_page_that_expired_keeps_what_was_typed(app, ctx, clock, board):
    filed, lead, *_ = board
    client = _client(app, ctx, clock, lead)
    # a token of ours from a session that is over (another browser's, here): expired
    stale = _token(app.test_client().get("/staff/sign-in").get_data(as_text=True))
    response = client.post(
        f"{_case_path(filed.case)}/messages?lang=en",
        data={"message-csrf_token": stale, "message-body": "Are you safe now?"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The page had expired: nothing was done." in page
    assert "Are you safe now?</textarea>" in page
    assert ctx.session.scalars(select(Message).where(Message.case_id == filed.case.id)).all() == []


def test_the_case_page_shows_open_deadlines_and_overdue(app, ctx, clock, board):
    filed, lead, *_ = board
    clock.set(START + timedelta(days=8))
    client = _client(app, ctx, clock, lead)
    page = _page(client, _case_path(filed.case))
    # in the summary at the top, with the days over or left
    section = page.split('class="case-summary"')[1].split("</dl>")[0]
    assert "Acknowledge receipt" in section
    assert "overdue by 1 day" in section
    open_ids = ctx.session.scalars(
        select(Deadline.id).where(
            Deadline.case_id == filed.case.id, Deadline.state == DeadlineState.OPEN
        )
    ).all()
    assert open_ids
    queue = _page(client, "/staff/reviewer/?overdue=1")
    assert filed.case.reference in queue


def test_pausing_through_the_service_shows_on_the_page(app, ctx, clock, board):
    filed, lead, *_ = board
    timekeeping.pause_clock(ctx, filed.case, Actor.for_user(lead), "Which month?")
    client = _client(app, ctx, clock, lead)
    page = _page(client, _case_path(filed.case))
    assert "Waiting for information from the complainant" in page
    assert "Information requested; the time limits stop: Which month?" in page
    queue = _page(client, "/staff/reviewer/")
    assert "Stopped: waiting for the complainant" in queue
