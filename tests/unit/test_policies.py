"""Policies as data (DESIGN invariant 6): the shipped defaults, overrides, validation."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from grievance.models import InvolvementKind, Stage
from grievance.policies import (
    DEFAULT_POLICY_FILE,
    PolicyError,
    default_policy,
    load_policy,
    merge,
    policy_for,
    read_policy_file,
)

DEFAULT_TEXT = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")


def days(policy, code):
    limit = policy.time_limit_for(code)
    assert limit is not None, code
    return limit


# -- the shipped defaults (standards.md sections 2-4) ------------------------------------


def test_default_file_loads():
    policy = load_policy()
    assert policy == default_policy()
    assert policy.version == 1
    assert policy_for(None) is default_policy()
    assert policy_for({}) is default_policy()


def test_default_time_limits_follow_the_standards():
    policy = default_policy()
    acknowledge = days(policy, "acknowledge")
    assert (acknowledge.days, acknowledge.months, acknowledge.floor) == (7, None, True)
    assert acknowledge.starts_on is Stage.RECEIVED
    assert acknowledge.ends_on == (Stage.ACKNOWLEDGED,)

    feedback = days(policy, "feedback")
    assert (feedback.days, feedback.months, feedback.floor) == (None, 3, True)
    assert feedback.starts_on is Stage.ACKNOWLEDGED

    progress = days(policy, "progress_update")
    assert (progress.days, progress.recurring, progress.floor) == (30, True, False)
    assert progress.ends_on_events == ("message_to_complainant", "feedback_given")

    satisfaction = days(policy, "satisfaction_check")
    assert (satisfaction.months, satisfaction.starts_on) == (6, Stage.CLOSED)

    assert days(policy, "admissibility").days == 90
    assert days(policy, "dialogue").months == 6
    assert days(policy, "decision").months == 3
    # Only the two legal maxima are floors.
    assert {limit.code for limit in policy.time_limits if limit.floor} == {
        "acknowledge",
        "feedback",
    }
    assert policy.review.effectiveness_review_months == 12


def test_default_involvement_obligations_follow_the_standards():
    policy = default_policy()
    assert set(policy.involvement) == set(InvolvementKind)

    def table(kind):
        return {rule.code: rule.requirement for rule in policy.obligations_for(kind)}

    assert table(InvolvementKind.CAUSE) == {
        "cease_or_prevent": "required",
        "provide_remedy": "required",
    }
    assert table(InvolvementKind.CONTRIBUTE) == {
        "cease_or_prevent_contribution": "required",
        "use_leverage": "required",
        "remedy_share": "required",
    }
    assert table(InvolvementKind.LINKED) == {
        "seek_to_prevent_or_mitigate": "required",
        "use_leverage": "required_if_held",
        "increase_leverage": "required_if_lacking",
        "consider_ending_relationship": "conditional",
        "remediation_role": "voluntary",
    }
    # A linked company is not required to remedy: that rule does not bind.
    binding = {rule.code for rule in policy.obligations_for(InvolvementKind.LINKED) if rule.binding}
    assert "remediation_role" not in binding
    assert len(binding) == 4
    assert {kind: rule.csddd_term for kind, rule in policy.involvement.items()} == {
        InvolvementKind.CAUSE: "caused",
        InvolvementKind.CONTRIBUTE: "jointly_caused",
        InvolvementKind.LINKED: "caused_only_by_business_partner",
    }
    assert set(policy.reclassification.triggers) == {
        "new_evidence",
        "own_purchasing_practice_incentive",
        "leverage_use_failed",
        "time_elapsed_without_change",
    }


def test_default_remedy_types_are_the_nine_codes():
    policy = default_policy()
    assert [remedy.code for remedy in policy.remedy_types] == [
        "apology",
        "restitution",
        "rehabilitation",
        "compensation_financial",
        "compensation_non_financial",
        "punitive_sanction",
        "injunction",
        "guarantee_of_non_repetition",
        "environmental_restoration",
    ]
    assert len(policy.remedy_codes) == 9


def test_default_themes_and_urgent_themes():
    policy = default_policy()
    assert policy.urgent_themes == {"child_labour", "forced_labour", "reprisal"}
    assert {
        "child_labour",
        "forced_labour",
        "freedom_of_association",
        "living_wage",
        "health_and_safety",
        "discrimination_gender",
        "land_rights",
        "environment",
    } <= policy.theme_codes


def test_default_languages_are_all_described():
    policy = default_policy()
    assert "en" in policy.languages
    assert "nl" in policy.languages
    for code in policy.languages:
        assert policy.language_named(code) is not None, code
    rtl = {language.code for language in policy.language if language.rtl}
    assert rtl == {"ar", "ur"}


# -- overrides ------------------------------------------------------------------------------


def test_coded_list_merges_by_code():
    policy = load_policy(overrides={"theme": [{"code": "living_wage", "urgent": True}]})
    default = default_policy()
    assert [theme.code for theme in policy.theme] == [theme.code for theme in default.theme]
    living_wage = next(theme for theme in policy.theme if theme.code == "living_wage")
    assert living_wage.urgent is True
    assert living_wage.label == "Wages and living wage"  # kept from the default
    assert policy.urgent_themes == default.urgent_themes | {"living_wage"}


def test_new_code_is_appended():
    policy = load_policy(
        overrides={"remedy_type": [{"code": "school_fees", "label": "School fees paid"}]}
    )
    assert [remedy.code for remedy in policy.remedy_types][-1] == "school_fees"
    assert len(policy.remedy_types) == 10
    assert default_policy().remedy_codes < policy.remedy_codes


def test_enabled_false_switches_an_entry_off():
    policy = load_policy(
        overrides={
            "theme": [{"code": "other", "enabled": False}],
            "time_limit": [{"code": "dialogue", "enabled": False}],
            "remedy_type": [{"code": "punitive_sanction", "enabled": False}],
        }
    )
    assert "other" not in policy.theme_codes
    assert policy.time_limit_for("dialogue") is None
    assert policy.time_limits_starting_on(Stage.DIALOGUE) == []
    assert "punitive_sanction" not in policy.remedy_codes
    assert len(policy.remedy_types) == 8
    # Still listed (a switched-off entry keeps its meaning for old cases).
    assert any(theme.code == "other" for theme in policy.theme)


def test_scalars_and_plain_lists_are_replaced():
    policy = load_policy(
        overrides={
            "languages": ["en", "bn"],
            "retention": {"identity_days_after_close": 365},
            "time_limit": [{"code": "admissibility", "days": 45, "label": "Decide quickly"}],
        }
    )
    assert policy.languages == ("en", "bn")
    assert policy.retention.identity_days_after_close == 365
    assert policy.review == default_policy().review
    admissibility = days(policy, "admissibility")
    assert (admissibility.days, admissibility.label) == (45, "Decide quickly")
    assert admissibility.starts_on is Stage.RECEIVED  # kept


def test_merge_does_not_change_its_inputs():
    base = read_policy_file(DEFAULT_POLICY_FILE)
    pristine = copy.deepcopy(base)
    override = {"theme": [{"code": "water", "label": "Water"}], "retention": {"x": 1}}
    kept = copy.deepcopy(override)
    merged = merge(base, override)
    assert base == pristine
    assert override == kept
    assert merged["theme"][-1] == {"code": "water", "label": "Water"}
    merged["theme"][-1]["label"] = "changed"
    assert override == kept


def test_policy_for_caches_by_content():
    overrides = {"languages": ["en", "nl"]}
    assert policy_for(overrides) is policy_for({"languages": ["en", "nl"]})
    assert policy_for(overrides).languages == ("en", "nl")


@pytest.mark.parametrize(
    "limit",
    [{"code": "acknowledge", "days": 5}, {"code": "feedback", "months": 2}],
    ids=["acknowledge", "feedback"],
)
def test_floor_can_be_shortened(limit):
    policy = load_policy(overrides={"time_limit": [limit]})
    changed = days(policy, limit["code"])
    assert (changed.days, changed.months) == (limit.get("days"), limit.get("months"))


@pytest.mark.parametrize(
    "limit",
    [
        {"code": "acknowledge", "days": 8},
        {"code": "feedback", "months": 4},
        {"code": "acknowledge", "days": None, "months": 1},
    ],
    ids=["acknowledge-days", "feedback-months", "acknowledge-as-a-month"],
)
def test_floor_cannot_be_lengthened(limit):
    with pytest.raises(PolicyError, match="legal floor and may be shortened, never lengthened"):
        load_policy(overrides={"time_limit": [limit]})


def test_floor_cannot_be_switched_off():
    with pytest.raises(PolicyError, match="time_limit 'acknowledge' is a legal floor"):
        policy_for({"time_limit": [{"code": "acknowledge", "enabled": False}]})


def test_other_limits_can_be_lengthened():
    policy = load_policy(overrides={"time_limit": [{"code": "admissibility", "days": 120}]})
    assert days(policy, "admissibility").days == 120


def test_invalid_override_names_the_field():
    with pytest.raises(PolicyError) as raised:
        load_policy(overrides={"retention": {"identity_days_after_close": 0}})
    message = str(raised.value)
    assert "with the mechanism's overrides" in message
    assert "retention.identity_days_after_close" in message


# -- bad files --------------------------------------------------------------------------------


def _edit(old: str, new: str, text: str = DEFAULT_TEXT) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _without_section(start: str, end: str) -> str:
    head, rest = DEFAULT_TEXT.split(start, 1)
    return head + end + rest.split(end, 1)[1]


_ACKNOWLEDGE = 'code = "acknowledge"\nlabel = "Acknowledge receipt"\ndays = 7\n'

BAD_FILES = {
    "invalid-toml": (
        _edit("version = 1\n", "version = \n"),
        ["not valid TOML", "line"],
    ),
    "missing-required-key": (
        _edit("identity_days_after_close = 730\n", ""),
        ["retention.identity_days_after_close", "Field required"],
    ),
    "missing-version": (_edit("version = 1\n", ""), ["version", "Field required"]),
    "unknown-key": (
        _edit(_ACKNOWLEDGE, _ACKNOWLEDGE + "grace_days = 2\n"),
        ["time_limit.0.grace_days", "Extra inputs are not permitted"],
    ),
    "unknown-top-level-key": (
        _edit("version = 1\n", 'version = 1\ncolour = "blue"\n'),
        ["colour", "Extra inputs are not permitted"],
    ),
    "wrong-type": (
        _edit("days = 7\n", 'days = "seven"\n'),
        ["time_limit.0.days", "valid integer"],
    ),
    "wrong-type-stage": (
        _edit('starts_on = "received"\n', 'starts_on = "pending"\n'),
        ["time_limit.0.starts_on"],
    ),
    "negative-days": (
        _edit("days = 7\n", "days = -7\n"),
        ["time_limit.0.days", "greater than 0"],
    ),
    "days-and-months": (
        _edit(_ACKNOWLEDGE, _ACKNOWLEDGE + "months = 1\n"),
        ["time_limit.0", "exactly one of 'days' and 'months'"],
    ),
    "duplicate-code": (
        _edit('code = "other"\nlabel = "Something else"', 'code = "child_labour"\nlabel = "X"'),
        ["theme: code 'child_labour' appears twice"],
    ),
    "duplicate-obligation-code": (
        _edit('code = "provide_remedy"', 'code = "cease_or_prevent"'),
        ["involvement.cause", "obligation: code 'cease_or_prevent' appears twice"],
    ),
    "missing-involvement-kind": (
        _without_section("[involvement.linked]", "[reclassification]"),
        ["involvement: missing linked"],
    ),
    "unknown-language": (
        _edit('languages = ["en", "nl",', 'languages = ["en", "xx", "nl",'),
        ["languages: xx not listed under [[language]]"],
    ),
    "bad-code": (
        _edit('code = "apology"', 'code = "Apology!"'),
        ["remedy_type.0.code", "pattern"],
    ),
}


@pytest.mark.parametrize(("text", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_fails_naming_file_and_field(tmp_path, text, expected):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    message = str(raised.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyError, match=re.escape(f"policy file {path}: not found")):
        load_policy(path)


def test_copy_of_default_file_is_valid(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    assert load_policy(path) == default_policy()


# -- flask grievance check-policy -------------------------------------------------------------


def check_policy(app, path: Path):
    return app.test_cli_runner().invoke(args=["grievance", "check-policy", str(path)])


def test_check_policy_accepts_the_default_file(app):
    result = check_policy(app, DEFAULT_POLICY_FILE)
    assert result.exit_code == 0, result.output
    policy = default_policy()
    assert result.output.startswith(
        f"OK: {len(policy.time_limits)} time limits, {len(policy.themes)} themes, "
        f"{len(policy.remedy_types)} remedy types, {len(policy.languages)} languages."
    )


@pytest.mark.parametrize(
    "case", ["invalid-toml", "negative-days", "missing-involvement-kind"], ids=str
)
def test_check_policy_refuses_a_bad_file(app, tmp_path, case):
    text, expected = BAD_FILES[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = check_policy(app, path)
    assert result.exit_code == 1
    assert "OK:" not in result.output
    assert str(path) in result.output
    for part in expected:
        assert part in result.output


def test_check_policy_refuses_a_missing_file(app, tmp_path):
    result = check_policy(app, tmp_path / "missing.toml")
    assert result.exit_code == 1
    assert "not found" in result.output


def test_every_event_named_by_a_time_limit_is_one_the_services_write():
    """A time limit ended by an event kind that is never written could only be missed."""
    from grievance.services.caselog import EVENT_KINDS

    for limit in default_policy().time_limits:
        for kind in limit.ends_on_events:
            assert kind in EVENT_KINDS, (limit.code, kind)
