"""Routing's scoring, on plain data: no database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grievance.models import AssignmentRole
from grievance.services.routing import (
    ROLES,
    Candidate,
    CaseFacts,
    Exclusion,
    exclusion,
    plan,
    score,
)

LEAD, SECOND = AssignmentRole.LEAD, AssignmentRole.SECOND
LANGUAGES = ["bn", "en", "ta", "tr"]
THEMES = ["child_labour", "living_wage", "health_and_safety", "reprisal"]
COUNTRIES = ["BD", "IN", "TR"]
IDS = st.integers(min_value=0, max_value=7)  # companies and sites, few: conflicts happen


def candidate(reviewer_id: int, **values: object) -> Candidate:
    """A candidate; sets may be given as plain sets."""
    frozen = {
        name: frozenset(value) if isinstance(value, set | frozenset) else value
        for name, value in values.items()
    }
    return Candidate(reviewer_id=reviewer_id, **frozen)  # type: ignore[arg-type]


CASE = CaseFacts(
    language="bn",
    themes=frozenset({"living_wage", "health_and_safety"}),
    country="BD",
    companies=frozenset({1, 2}),
    sites=frozenset({10}),
)


def chosen(result) -> dict[AssignmentRole, int]:
    return {pick.role: pick.reviewer_id for pick in result.picks}


# -- the order of preference -------------------------------------------------------------


def test_language_comes_before_expertise_and_load():
    expert = candidate(1, languages=frozenset({"en"}), themes=CASE.themes, countries={"BD"})
    reader = candidate(2, languages=frozenset({"bn"}), load=9)
    assert chosen(plan(CASE, [expert, reader])) == {LEAD: 2, SECOND: 1}


def test_expertise_comes_before_load():
    busy_expert = candidate(1, languages={"bn"}, themes=frozenset({"living_wage"}), load=8)
    idle = candidate(2, languages={"bn"}, load=0)
    assert chosen(plan(CASE, [idle, busy_expert])) == {LEAD: 1, SECOND: 2}


def test_themes_and_country_each_count_one_point():
    two_themes = candidate(1, languages={"bn"}, themes=CASE.themes, load=1)
    theme_and_country = candidate(
        2, languages={"bn"}, themes=frozenset({"living_wage"}), countries={"BD"}, load=0
    )
    one_theme = candidate(3, languages={"bn"}, themes=frozenset({"living_wage"}), load=0)
    assert score(two_themes, CASE).expertise == score(theme_and_country, CASE).expertise == 2
    # equal expertise: the lighter load wins
    assert chosen(plan(CASE, [one_theme, two_themes, theme_and_country])) == {LEAD: 2, SECOND: 1}


def test_the_lightest_load_then_the_lowest_id_break_ties():
    pool = [candidate(number, languages={"bn"}, load=load) for number, load in [(5, 1), (3, 1)]]
    pool.append(candidate(9, languages={"bn"}, load=0))
    assert chosen(plan(CASE, pool)) == {LEAD: 9, SECOND: 3}


def test_points_follow_the_key():
    scores = [
        score(candidate(1, languages={"bn"}, load=50), CASE),
        score(candidate(2, themes=CASE.themes, countries={"BD"}), CASE),
        score(candidate(3, languages={"bn"}, themes=frozenset({"living_wage"}), load=3), CASE),
        score(candidate(4, languages={"bn"}, themes=frozenset({"living_wage"}), load=2), CASE),
    ]
    by_key = sorted(scores, key=lambda item: item.key)
    by_points = sorted(scores, key=lambda item: (-item.points, item.reviewer_id))
    assert by_key == by_points
    assert [item.reviewer_id for item in by_key] == [4, 3, 1, 2]


def test_reasons_explain_the_score():
    fit = score(
        candidate(1, languages={"en"}, themes=frozenset({"living_wage"}), load=3, capacity=12),
        CASE,
    )
    assert fit.reasons(CASE) == [
        "language: does not read bn",
        "themes: living_wage",
        "country: not BD",
        "load: 3 of 12",
    ]
    result = plan(CASE, [candidate(1, languages={"bn"}), candidate(2, conflict_sites={10})])
    assert result.reasons(result.picks[0], CASE)[-2:] == [
        "rank: 1 of 1 eligible",
        "excluded: conflict 2",
    ]


# -- who is never chosen -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"conflict_companies": frozenset({2})}, Exclusion.CONFLICT),
        ({"conflict_sites": frozenset({10})}, Exclusion.CONFLICT),
        ({"available": False}, Exclusion.UNAVAILABLE),
        ({"load": 10, "capacity": 10}, Exclusion.AT_CAPACITY),
    ],
)
def test_who_cannot_take_a_case(values, why):
    assert exclusion(candidate(1, languages={"bn"}, **values), CASE) is why
    result = plan(CASE, [candidate(1, languages={"bn"}, **values)])
    assert result.picks == ()
    assert result.unfilled == ROLES
    assert result.excluded == {1: why}


def test_reviewers_on_the_case_or_who_left_it_are_not_chosen():
    case = CaseFacts(language="bn", assigned=frozenset({1}), left=frozenset({2}))
    pool = [candidate(number, languages={"bn"}) for number in (1, 2, 3)]
    result = plan(case, pool, [SECOND])
    assert chosen(result) == {SECOND: 3}
    assert result.excluded == {1: Exclusion.ASSIGNED, 2: Exclusion.LEFT_CASE}


def test_a_conflict_is_named_before_anything_else():
    case = CaseFacts(language="bn", companies=frozenset({4}), left=frozenset({1}))
    unavailable = candidate(1, available=False, load=99, conflict_companies=frozenset({4}))
    assert exclusion(unavailable, case) is Exclusion.CONFLICT


def test_nobody_eligible_leaves_the_roles_unfilled():
    result = plan(CASE, [candidate(1, languages={"bn"})])
    assert chosen(result) == {LEAD: 1}
    assert result.unfilled == (SECOND,)
    assert plan(CASE, []).unfilled == ROLES


def test_only_the_missing_role_is_filled():
    result = plan(CASE, [candidate(1), candidate(2)], [SECOND])
    assert chosen(result) == {SECOND: 1}


def test_a_candidate_given_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        plan(CASE, [candidate(1), candidate(1)])


# -- properties, over random pools and cases ------------------------------------------------

id_sets = st.frozensets(IDS, max_size=3)
candidates = st.lists(
    st.builds(
        Candidate,
        reviewer_id=st.integers(min_value=1, max_value=500),
        languages=st.frozensets(st.sampled_from(LANGUAGES), max_size=3),
        themes=st.frozensets(st.sampled_from(THEMES), max_size=3),
        countries=st.frozensets(st.sampled_from(COUNTRIES), max_size=2),
        load=st.integers(min_value=0, max_value=12),
        capacity=st.integers(min_value=0, max_value=12),
        available=st.booleans(),
        conflict_companies=id_sets,
        conflict_sites=id_sets,
    ),
    max_size=12,
    unique_by=lambda item: item.reviewer_id,
)
cases = st.builds(
    CaseFacts,
    language=st.sampled_from(LANGUAGES),
    themes=st.frozensets(st.sampled_from(THEMES), max_size=3),
    country=st.none() | st.sampled_from(COUNTRIES),
    companies=id_sets,
    sites=st.frozensets(IDS, max_size=1),
    assigned=st.frozensets(st.integers(min_value=1, max_value=500), max_size=1),
    left=st.frozensets(st.integers(min_value=1, max_value=500), max_size=3),
)
roles = st.sampled_from([ROLES, (LEAD,), (SECOND,)])


@settings(max_examples=300, deadline=None)
@given(case=cases, pool=candidates, wanted=roles)
def test_the_chosen_never_have_a_conflict_and_are_never_chosen_twice(case, pool, wanted):
    result = plan(case, pool, wanted)
    by_id = {item.reviewer_id: item for item in pool}
    picked = [pick.reviewer_id for pick in result.picks]
    assert len(picked) == len(set(picked))  # never lead and second at once
    for reviewer_id in picked:
        reviewer = by_id[reviewer_id]
        assert not reviewer.conflict_companies & case.companies
        assert not reviewer.conflict_sites & case.sites
        assert reviewer_id not in case.assigned | case.left
        assert reviewer.available
        assert reviewer.load < reviewer.capacity
    assert {pick.role for pick in result.picks} | set(result.unfilled) == set(wanted)
    # a role stays empty only when nobody eligible is left for it
    eligible = [item for item in pool if exclusion(item, case) is None]
    assert len(result.picks) == min(len(eligible), len(wanted))


@settings(max_examples=300, deadline=None)
@given(case=cases, pool=candidates, wanted=roles, data=st.data())
def test_the_same_input_in_any_order_gives_the_same_choice(case, pool, wanted, data):
    first = plan(case, pool, wanted)
    shuffled = data.draw(st.permutations(pool))
    again = plan(case, shuffled, tuple(reversed(wanted)))
    assert again.picks == first.picks
    assert again.unfilled == first.unfilled
    assert again == plan(case, shuffled, tuple(reversed(wanted)))


@settings(max_examples=300, deadline=None)
@given(case=cases, pool=candidates)
def test_no_eligible_candidate_left_out_is_better_than_one_chosen(case, pool):
    result = plan(case, pool)
    picked = {pick.reviewer_id for pick in result.picks}
    worst = max((pick.score.key for pick in result.picks), default=None)
    for item in pool:
        if exclusion(item, case) is None and item.reviewer_id not in picked:
            assert worst is not None
            assert score(item, case).key > worst
    # the lead is at least as good as the second; language first
    if len(result.picks) == 2:
        lead, second = result.picks
        assert (lead.role, second.role) == (LEAD, SECOND)
        assert lead.score.key < second.score.key
    readers = [
        item for item in pool if exclusion(item, case) is None and case.language in item.languages
    ]
    if readers and result.picks:
        assert result.picks[0].score.reads_language
