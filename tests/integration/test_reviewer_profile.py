"""Reviewers' profiles (issue #5): a reviewer keeps their languages, themes, countries,
capacity, availability and conflicts of interest; an administrator sees and changes
them; every change is audited by user id; a declared conflict takes the reviewer off the
cases it touches, a withdrawn one stays in the record; a reviewer with room again takes
the cases waiting for a reviewer. Nobody else sees the pages."""

from __future__ import annotations

import logging
import re
import secrets

import pytest
from sqlalchemy import select

from grievance.models import AssignmentRole, Conflict, ReviewerProfile, Role
from grievance.services import accounts, involvement, reviewers
from grievance.services.actors import SYSTEM, Actor
from grievance.services.errors import InvalidInput, NotAllowed
from tests.conftest import START
from tests.factories import (
    assigned_ids,
    make_company,
    make_mechanism,
    make_reviewer,
    make_site,
    make_staff,
    new_case,
)
from tests.integration.test_staff_auth import sign_in

PROFILE = "/staff/profile"


# -- helpers --------------------------------------------------------------------------------


def tokens(page: str) -> dict[str, str]:
    """Every CSRF field of the page (the forms have prefixes), by name."""
    found = dict(re.findall(r'name="([\w-]*csrf_token)" (?:type="hidden" )?value="([^"]+)"', page))
    assert found, "no CSRF token on the page"
    return found


def post(client, path: str, data: dict, page_path: str = PROFILE, prefix: str = ""):
    """POST a form of the page at `page_path` with its CSRF token."""
    page = client.get(page_path).get_data(as_text=True)
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    token = tokens(page).get(name) or next(iter(tokens(page).values()))
    return client.post(path, data={name: token, **data})


def reviewer_with_totp(ctx, **profile):
    user = make_reviewer(ctx, **profile)
    seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
    accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
    ctx.session.flush()
    return user, seed


def signed_in(app, clock, user, seed):
    client = app.test_client()
    sign_in(client, user, seed, clock)
    return client


def audit_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "grievance.audit"]


PROFILE_FORM = {
    "languages": ["bn", "en"],
    "themes": ["living_wage", "health_and_safety"],
    "countries": ["BD", "IN"],
    "capacity": "7",
    "available": "yes",
}


# -- the reviewer's own profile -------------------------------------------------------------


def test_a_reviewer_saves_their_profile_and_it_is_audited(app, ctx, clock, caplog):
    make_mechanism(ctx, "PRF")
    user, seed = reviewer_with_totp(ctx, languages=["en"], capacity=10)
    client = signed_in(app, clock, user, seed)
    caplog.set_level(logging.INFO, logger="grievance.audit")
    page = client.get(PROFILE + "?lang=en").get_data(as_text=True)
    assert "Your reviewer profile" in page
    assert "Wages and living wage" in page  # the policy's theme, by its label
    assert 'value="living_wage"' in page
    response = post(client, PROFILE, PROFILE_FORM)
    assert response.status_code == 302
    profile = ctx.session.get(ReviewerProfile, user.id)
    ctx.session.refresh(profile)
    assert profile.languages == ["bn", "en"]
    assert profile.themes == ["health_and_safety", "living_wage"]
    assert profile.countries == ["BD", "IN"]
    assert (profile.capacity, profile.available) == (7, True)
    assert (
        f"user {user.id} changed the reviewer profile of user {user.id}: "
        "languages, themes, countries, capacity" in audit_lines(caplog)
    )
    assert not any(user.email in line for line in audit_lines(caplog))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The profile was saved." in page


def test_theme_and_country_names_are_in_the_readers_language(app, ctx, clock):
    make_mechanism(ctx, "PRN")
    user, seed = reviewer_with_totp(ctx, countries=["NL"])
    client = signed_in(app, clock, user, seed)
    page = client.get(PROFILE + "?lang=nl").get_data(as_text=True)
    assert "Lonen en leefbaar loon" in page  # the theme label, translated
    assert "Nederland" in page  # Babel's name of NL in Dutch
    assert 'value="NL" checked' in page or re.search(r'checked[^>]*value="NL"', page)


def test_a_reviewer_without_a_profile_creates_it_by_saving(app, ctx, clock, caplog):
    make_mechanism(ctx, "PRC")
    user, seed = make_staff(ctx, Role.REVIEWER)
    client = signed_in(app, clock, user, seed)
    caplog.set_level(logging.INFO, logger="grievance.audit")
    page = client.get(PROFILE + "?lang=en").get_data(as_text=True)
    assert "has not been saved yet" in page
    assert post(client, PROFILE, PROFILE_FORM).status_code == 302
    assert ctx.session.get(ReviewerProfile, user.id).capacity == 7
    assert any(
        f"created the reviewer profile of user {user.id}" in line for line in audit_lines(caplog)
    )


def test_bad_input_gets_a_clear_message_and_keeps_what_was_chosen(app, ctx, clock, caplog):
    make_mechanism(ctx, "PRB")
    user, seed = reviewer_with_totp(ctx, languages=["en"], capacity=10)
    client = signed_in(app, clock, user, seed)
    caplog.set_level(logging.INFO, logger="grievance.audit")
    # only what the bad input writes: the enrolment's and sign-in's lines are captured
    # too when an earlier test's app left the root logger at INFO
    caplog.clear()
    response = post(client, PROFILE + "?lang=en", {**PROFILE_FORM, "capacity": "lots"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give a whole number from 0 to 200." in page
    assert re.search(r'checked[^>]*value="bn"|value="bn"[^>]*checked', page)  # kept
    assert 'value="lots"' in page
    profile = ctx.session.get(ReviewerProfile, user.id)
    assert (profile.languages, profile.capacity) == (["en"], 10)  # nothing saved
    assert audit_lines(caplog) == []
    too_many = post(client, PROFILE + "?lang=en", {**PROFILE_FORM, "capacity": "201"})
    assert too_many.status_code == 422
    unknown = post(client, PROFILE + "?lang=en", {**PROFILE_FORM, "themes": ["astrology"]})
    assert unknown.status_code == 422
    assert ctx.session.get(ReviewerProfile, user.id).capacity == 10


def test_the_service_refuses_what_the_form_would_not_send(ctx):
    make_mechanism(ctx, "PRV")
    user = make_reviewer(ctx)
    me = Actor.for_user(user)
    for settings, field in [
        (reviewers.ProfileSettings(languages=["xx"]), "languages"),
        (reviewers.ProfileSettings(themes=["astrology"]), "themes"),
        (reviewers.ProfileSettings(countries=["ZZ"]), "countries"),
        (reviewers.ProfileSettings(capacity=-1), "capacity"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            reviewers.update_profile(ctx, me, user, settings)
        assert set(refused.value.errors) == {field}
    other = make_reviewer(ctx)
    with pytest.raises(NotAllowed):
        reviewers.update_profile(ctx, Actor.for_user(other), user, reviewers.ProfileSettings())
    secretariat = make_staff(ctx, Role.SECRETARIAT)[0]
    with pytest.raises(NotAllowed):
        reviewers.update_profile(
            ctx, Actor.for_user(secretariat), user, reviewers.ProfileSettings()
        )


# -- conflicts ------------------------------------------------------------------------------


def test_a_declared_conflict_takes_the_reviewer_off_the_cases_it_touches(app, ctx, clock, caplog):
    mechanism = make_mechanism(ctx, "PCF")
    user, seed = reviewer_with_totp(ctx, languages=["bn"])
    filed = new_case(ctx, mechanism)
    other = make_reviewer(ctx, languages=["bn"])
    third = make_reviewer(ctx, languages=["bn"])
    assert user.id in assigned_ids(ctx, filed.case).values()
    company = make_company(ctx, mechanism, name="Chittagong Denim Ltd")
    involvement.add_company(ctx, filed.case, company, SYSTEM)
    client = signed_in(app, clock, user, seed)
    caplog.set_level(logging.INFO, logger="grievance.audit")
    page = client.get(PROFILE + "?lang=en").get_data(as_text=True)
    assert "Company: Chittagong Denim Ltd" in page  # offered
    response = post(
        client,
        PROFILE + "/conflicts",
        {"conflict-subject": f"company:{company.id}", "conflict-reason": "My brother works there."},
        prefix="conflict",
    )
    assert response.status_code == 302
    assert user.id not in assigned_ids(ctx, filed.case).values()
    assert set(assigned_ids(ctx, filed.case).values()) <= {other.id, third.id}
    assert len(assigned_ids(ctx, filed.case)) == 2  # routing found someone else
    conflict = ctx.session.scalars(select(Conflict).where(Conflict.reviewer_id == user.id)).one()
    assert (conflict.company_id, conflict.reason) == (company.id, "My brother works there.")
    assert conflict.declared_on == START.date()
    assert any(
        f"user {user.id} declared conflict {conflict.id} of reviewer {user.id} with company "
        f"{company.id}; the reviewer left 1 cases" == line
        for line in audit_lines(caplog)
    )
    assert not any("brother" in line for line in audit_lines(caplog))  # no reason text
    page = client.get(PROFILE + "?lang=en").get_data(as_text=True)
    assert "You left 1 case it touches" in page
    assert "My brother works there." in page


def test_a_conflict_with_a_site_and_a_bad_declaration(app, ctx, clock):
    mechanism = make_mechanism(ctx, "PCS")
    user, seed = reviewer_with_totp(ctx)
    site = make_site(ctx, make_company(ctx, mechanism, name="Gazipur Knit"))
    client = signed_in(app, clock, user, seed)
    empty = post(
        client,
        PROFILE + "/conflicts?lang=en",
        {"conflict-subject": f"site:{site.id}", "conflict-reason": "  "},
        prefix="conflict",
    )
    assert empty.status_code == 422
    assert "Say what the conflict is." in empty.get_data(as_text=True)
    assert f'<option selected value="site:{site.id}">' in empty.get_data(as_text=True)  # kept
    assert ctx.session.scalars(select(Conflict).where(Conflict.reviewer_id == user.id)).all() == []
    done = post(
        client,
        PROFILE + "/conflicts",
        {"conflict-subject": f"site:{site.id}", "conflict-reason": "I audited it."},
        prefix="conflict",
    )
    assert done.status_code == 302
    again = post(
        client,
        PROFILE + "/conflicts?lang=en",
        {"conflict-subject": f"site:{site.id}", "conflict-reason": "Twice."},
        prefix="conflict",
    )
    assert again.status_code == 422  # no longer offered: a standing conflict
    assert f'value="site:{site.id}"' not in again.get_data(as_text=True)
    assert len(reviewers.conflicts_of(ctx, user)) == 1


def test_a_withdrawn_conflict_stays_in_the_record(app, ctx, clock, caplog):
    mechanism = make_mechanism(ctx, "PCW")
    user, seed = reviewer_with_totp(ctx)
    company = make_company(ctx, mechanism, name="Savar Sweaters")
    declared = reviewers.declare_conflict(
        ctx, Actor.for_user(user), user, company, "Former employer."
    ).conflict
    client = signed_in(app, clock, user, seed)
    caplog.set_level(logging.INFO, logger="grievance.audit")
    prefix = f"withdraw-{declared.id}"
    path = f"{PROFILE}/conflicts/{declared.id}/withdraw"
    refused = post(client, path + "?lang=en", {f"{prefix}-reason": ""}, prefix=prefix)
    assert refused.status_code == 422
    assert "Say why the conflict no longer stands." in refused.get_data(as_text=True)
    assert declared.withdrawn_on is None
    response = post(client, path, {f"{prefix}-reason": "I left them in 2019."}, prefix=prefix)
    assert response.status_code == 302
    row = ctx.session.get(Conflict, declared.id)
    ctx.session.refresh(row)
    assert row is not None  # kept, not deleted
    assert (row.withdrawn_on, row.withdrawal_reason) == (START.date(), "I left them in 2019.")
    assert row.reason == "Former employer."
    assert f"user {user.id} withdrew conflict {declared.id} of reviewer {user.id}" in audit_lines(
        caplog
    )
    page = client.get(PROFILE + "?lang=en").get_data(as_text=True)
    withdrawn = page.split("Withdrawn conflicts")[1]
    assert "Savar Sweaters" in withdrawn
    assert "I left them in 2019." in withdrawn
    assert "Former employer." in withdrawn
    # routing no longer counts it
    assert routing_conflicts(ctx, user) == frozenset()


def routing_conflicts(ctx, user) -> frozenset[int]:
    from grievance.services import routing

    (candidate,) = routing.candidates(ctx, [user.id])
    return candidate.conflict_companies


def test_withdrawing_lets_the_reviewer_take_the_companys_waiting_cases(ctx):
    mechanism = make_mechanism(ctx, "PCT")
    user = make_reviewer(ctx)
    company = make_company(ctx, mechanism)
    site = make_site(ctx, company)
    conflict = reviewers.declare_conflict(ctx, Actor.for_user(user), user, company, "Client.")
    filed = new_case(ctx, mechanism, site_id=site.id)
    assert assigned_ids(ctx, filed.case) == {}  # the only reviewer has a conflict
    withdrawn = reviewers.withdraw_conflict(
        ctx, Actor.for_user(user), conflict.conflict, "No longer a client."
    )
    assert [case.id for case in withdrawn.taken] == [filed.case.id]
    assert assigned_ids(ctx, filed.case) == {AssignmentRole.LEAD: user.id}


def test_only_the_reviewer_withdraws_their_conflict(app, ctx, clock):
    mechanism = make_mechanism(ctx, "PCO")
    user = make_reviewer(ctx)
    conflict = reviewers.declare_conflict(
        ctx, Actor.for_user(user), user, make_company(ctx, mechanism), "Client."
    ).conflict
    admin = make_staff(ctx, Role.ADMIN)[0]
    with pytest.raises(NotAllowed):
        reviewers.withdraw_conflict(ctx, Actor.for_user(admin), conflict, "Admin says so.")
    other, seed = reviewer_with_totp(ctx)
    with pytest.raises(NotAllowed):
        reviewers.withdraw_conflict(ctx, Actor.for_user(other), conflict, "Not mine.")
    client = signed_in(app, clock, other, seed)
    prefix = f"withdraw-{conflict.id}"
    response = post(
        client, f"{PROFILE}/conflicts/{conflict.id}/withdraw", {f"{prefix}-reason": "Mine now."}
    )
    assert response.status_code == 404  # another reviewer's: nothing to say about it
    assert conflict.withdrawn_on is None


# -- routing the cases that wait for a reviewer ----------------------------------------------


def test_availability_regained_routes_the_waiting_cases(app, ctx, clock, caplog):
    mechanism = make_mechanism(ctx, "PAV")
    user, seed = reviewer_with_totp(ctx, languages=["bn"], available=False)
    filed = new_case(ctx, mechanism)
    assert assigned_ids(ctx, filed.case) == {}  # nobody available: it waits
    client = signed_in(app, clock, user, seed)
    caplog.set_level(logging.INFO, logger="grievance.audit")
    response = post(client, PROFILE, {**PROFILE_FORM, "available": "yes"})
    assert response.status_code == 302
    assert assigned_ids(ctx, filed.case) == {AssignmentRole.LEAD: user.id}
    assert any(
        f"reviewer {user.id} was put on 1 waiting cases" in line for line in audit_lines(caplog)
    )
    page = client.get(PROFILE + "?lang=en").get_data(as_text=True)
    assert "You were put on 1 case that was waiting for a reviewer." in page


def test_saving_without_more_room_routes_nothing(ctx):
    mechanism = make_mechanism(ctx, "PNR")
    user = make_reviewer(ctx, available=False)
    filed = new_case(ctx, mechanism)
    saved = reviewers.update_profile(
        ctx,
        Actor.for_user(user),
        user,
        reviewers.ProfileSettings(languages=["bn"], available=False),
    )
    assert saved.changed == ("languages",)
    assert saved.taken == ()
    assert assigned_ids(ctx, filed.case) == {}


def test_capacity_gained_takes_the_most_urgent_waiting_case_first(ctx):
    mechanism = make_mechanism(ctx, "PCP")
    user = make_reviewer(ctx, languages=["bn"], capacity=1)
    first = new_case(ctx, mechanism)  # takes the reviewer's only place
    assert assigned_ids(ctx, first.case) == {AssignmentRole.LEAD: user.id}
    calm = new_case(ctx, mechanism)
    urgent = new_case(ctx, mechanism, urgent=True)
    assert assigned_ids(ctx, calm.case) == assigned_ids(ctx, urgent.case) == {}
    saved = reviewers.update_profile(
        ctx,
        Actor.for_user(user),
        user,
        reviewers.ProfileSettings(languages=["bn"], capacity=2),
    )
    assert saved.changed == ("capacity",)
    assert [case.id for case in saved.taken] == [urgent.case.id]
    assert assigned_ids(ctx, urgent.case) == {AssignmentRole.LEAD: user.id}
    assert assigned_ids(ctx, calm.case) == {}  # no room left for it


# -- an administrator ---------------------------------------------------------------------------


def test_an_administrator_sees_and_changes_a_reviewers_profile(app, ctx, clock, caplog):
    mechanism = make_mechanism(ctx, "PAD")
    reviewer = make_reviewer(ctx, languages=["en"], capacity=4)
    company = make_company(ctx, mechanism, name="Narayanganj Dyeing")
    reviewers.declare_conflict(ctx, Actor.for_user(reviewer), reviewer, company, "Shareholder.")
    admin, seed = make_staff(ctx, Role.ADMIN)
    client = signed_in(app, clock, admin, seed)
    caplog.set_level(logging.INFO, logger="grievance.audit")
    path = f"/staff/admin/users/{reviewer.id}/profile"
    users = client.get("/staff/admin/users?lang=en").get_data(as_text=True)
    assert f'href="{path}"' in users
    page = client.get(path + "?lang=en").get_data(as_text=True)
    assert reviewer.display_name in page
    assert "Narayanganj Dyeing" in page
    assert "Shareholder." in page
    assert "/withdraw" not in page  # only the reviewer withdraws
    response = post(client, path, {**PROFILE_FORM, "capacity": "12"}, page_path=path)
    assert response.status_code == 302
    assert ctx.session.get(ReviewerProfile, reviewer.id).capacity == 12
    assert any(
        line.startswith(f"user {admin.id} changed the reviewer profile of user {reviewer.id}:")
        for line in audit_lines(caplog)
    )
    other = make_company(ctx, mechanism, name="Ashulia Washing")
    declared = post(
        client,
        path + "/conflicts",
        {"conflict-subject": f"company:{other.id}", "conflict-reason": "Told me by phone."},
        page_path=path,
        prefix="conflict",
    )
    assert declared.status_code == 302
    assert {c.company_id for c in reviewers.conflicts_of(ctx, reviewer)} == {company.id, other.id}
    assert any(
        line.startswith(f"user {admin.id} declared conflict") for line in audit_lines(caplog)
    )


def test_an_administrator_finds_no_profile_for_other_roles(app, ctx, clock):
    admin, seed = make_staff(ctx, Role.ADMIN)
    secretariat = make_staff(ctx, Role.SECRETARIAT)[0]
    client = signed_in(app, clock, admin, seed)
    assert client.get(f"/staff/admin/users/{secretariat.id}/profile").status_code == 404
    assert client.get("/staff/admin/users/999999/profile").status_code == 404


# -- who may not ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COMPANY, Role.SECRETARIAT, Role.ADMIN])
def test_other_roles_are_refused_the_reviewers_page(app, ctx, clock, role):
    user, seed = make_staff(ctx, role)
    client = signed_in(app, clock, user, seed)
    assert client.get(PROFILE).status_code == 403
    page = client.get("/staff").get_data(as_text=True)
    assert client.post(PROFILE, data={"csrf_token": tokens(page)["csrf_token"]}).status_code == 403


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.COMPANY, Role.SECRETARIAT])
def test_other_roles_are_refused_the_administrators_page(app, ctx, clock, role):
    reviewer = make_reviewer(ctx, capacity=3)
    if role is Role.REVIEWER:
        user, seed = reviewer_with_totp(ctx)
    else:
        user, seed = make_staff(ctx, role)
    client = signed_in(app, clock, user, seed)
    response = client.get(f"/staff/admin/users/{reviewer.id}/profile")
    assert response.status_code == 403
    assert reviewer.display_name not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(app, ctx):
    reviewer = make_reviewer(ctx)
    for path in (PROFILE, f"/staff/admin/users/{reviewer.id}/profile"):
        response = app.test_client().get(path)
        assert response.status_code == 302
        assert "/staff/sign-in" in response.headers["Location"]


def test_csrf_is_enforced(app, ctx, clock):
    make_mechanism(ctx, "PCX")
    user, seed = reviewer_with_totp(ctx, capacity=10)
    client = signed_in(app, clock, user, seed)
    response = client.post(PROFILE, data={**PROFILE_FORM, "capacity": "3"})
    assert response.status_code == 400
    assert ctx.session.get(ReviewerProfile, user.id).capacity == 10
    company = make_company(ctx)
    response = client.post(
        PROFILE + "/conflicts",
        data={"conflict-subject": f"company:{company.id}", "conflict-reason": "Client."},
    )
    assert response.status_code == 400
    assert reviewers.conflicts_of(ctx, user) == []


def test_the_staff_pages_link_to_the_profile_for_reviewers_only(app, ctx, clock):
    user, seed = reviewer_with_totp(ctx)
    page = signed_in(app, clock, user, seed).get("/staff?lang=en").get_data(as_text=True)
    assert f'href="{PROFILE}"' in page
    secretariat, seed = make_staff(ctx, Role.SECRETARIAT)
    page = signed_in(app, clock, secretariat, seed).get("/staff?lang=en").get_data(as_text=True)
    assert f'href="{PROFILE}"' not in page
