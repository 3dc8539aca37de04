"""The public case registry (issue 16, item 1) and its public summaries: only published
cases (`transparency.is_published`), only allow-listed facts, the same rows on the page,
in the CSV and JSON exports, keyset pages, a valid Atom feed; withheld cases 404."""

from __future__ import annotations

import csv
import io
import re
from xml.etree import ElementTree as ET

import pytest

from grievance.models import Consent, ReprisalRisk
from grievance.services import cases, public_summary, registry, transparency
from grievance.services.actors import Actor
from grievance.services.errors import FourEyesViolation, InvalidInput, NotAllowed
from tests.factories import staff_case
from tests.integration.test_transparency import _consenting

ATOM = "{http://www.w3.org/2005/Atom}"
SUMMARY = "Workers were dismissed after joining a union; the mechanism looks into it."
STATEMENT_MARKER = "own-words-of-the-complainant"


@pytest.fixture
def client(app):
    return app.test_client()


def _summarised(ctx, risk=ReprisalRisk.LOW, publish=True, summary=SUMMARY, mechanism=None):
    filed, lead, second = staff_case(
        ctx,
        mechanism=mechanism,
        statement=f"{STATEMENT_MARKER} {summary}",
        complainant=_consenting(publish),
    )
    case = filed.case
    cases.assess_reprisal_risk(ctx, case, Actor.for_user(lead), risk)
    public_summary.propose(ctx, case, Actor.for_user(lead), summary, "en")
    public_summary.approve(ctx, case, Actor.for_user(second))
    ctx.session.commit()
    return case


@pytest.fixture
def three(ctx):
    """A published case, one withheld for a high reprisal risk, one without consent."""
    shown = _summarised(ctx)
    same = shown.mechanism
    risky = _summarised(ctx, risk=ReprisalRisk.HIGH, summary="Risky case summary", mechanism=same)
    unconsented = _summarised(
        ctx, publish=False, summary="Unconsented case summary", mechanism=same
    )
    return shown, risky, unconsented


def _references(text: str) -> set[str]:
    return set(re.findall(r"[A-Z]{3}-\d{4}-\d{5}", text))


def test_the_sql_rule_is_the_rule(ctx, three):
    """`published_condition` (the registry's) says what `is_published` says, case by case."""
    shown, risky, unconsented = three
    page = registry.page(ctx, shown.mechanism)
    listed = {entry.reference for entry in page.entries}
    for case in three:
        assert (case.reference in listed) == transparency.is_published(ctx, case)
    assert listed >= {shown.reference}
    assert not listed & {risky.reference, unconsented.reference}


def test_a_withheld_case_is_in_no_public_page_export_or_feed(client, three):
    shown, risky, unconsented = three
    code = shown.mechanism.code
    answers = {
        path: client.get(path)
        for path in (
            f"/registry/{code}",
            f"/registry/{code}/cases.csv",
            f"/api/v1/registry/{code}",
            f"/registry/{code}/feed.atom",
            f"/registry/{code}/{shown.reference}",
        )
    }
    for path, response in answers.items():
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        for hidden in (risky.reference, unconsented.reference, "Risky case", "Unconsented"):
            assert hidden not in text, (path, hidden)
        assert STATEMENT_MARKER not in text, path  # never the complainant's own words
    assert shown.reference in answers[f"/registry/{code}"].get_data(as_text=True)
    assert SUMMARY in answers[f"/registry/{code}/{shown.reference}"].get_data(as_text=True)
    for case in (risky, unconsented):
        assert client.get(f"/registry/{code}/{case.reference}").status_code == 404
        assert client.get(f"/api/v1/transparency/cases/{case.reference}").status_code == 404
    assert client.get("/registry/ZZZ").status_code == 404


def test_withdrawing_consent_withholds_the_case_again(ctx, client, three):
    shown = three[0]
    consent = (
        ctx.session.query(Consent)
        .filter_by(complainant_id=shown.complainants[0].id, purpose="publish_summary")
        .one()
    )
    consent.withdrawn_at = ctx.now()
    ctx.session.commit()
    assert client.get(f"/registry/{shown.mechanism.code}/{shown.reference}").status_code == 404
    assert shown.reference not in client.get(f"/registry/{shown.mechanism.code}").text


def test_the_summary_takes_two_reviewers_and_only_the_approved_one_is_public(ctx, client):
    filed, lead, second = staff_case(ctx, complainant=_consenting(True))
    case = filed.case
    cases.assess_reprisal_risk(ctx, case, Actor.for_user(lead), ReprisalRisk.LOW)
    with pytest.raises(InvalidInput):
        public_summary.propose(ctx, case, Actor.for_user(lead), "   ", "en")
    public_summary.propose(ctx, case, Actor.for_user(lead), "A draft nobody approved", "en")
    with pytest.raises(FourEyesViolation):
        public_summary.approve(ctx, case, Actor.for_user(lead))
    outsider = staff_case(ctx)[1]
    with pytest.raises(NotAllowed):
        public_summary.approve(ctx, case, Actor.for_user(outsider))
    ctx.session.commit()
    page = client.get(f"/registry/{case.mechanism.code}/{case.reference}").text
    assert "A draft nobody approved" not in page
    assert "No public summary yet." in page
    public_summary.approve(ctx, case, Actor.for_user(second))
    ctx.session.commit()
    page = client.get(f"/registry/{case.mechanism.code}/{case.reference}").text
    assert "A draft nobody approved" in page
    kinds = [event.kind for event in case.events]
    assert kinds[-2:] == ["public_summary_proposed", "public_summary_approved"]
    log = client.get(f"/api/v1/transparency/cases/{case.reference}").get_json()
    approved = [e for e in log["events"] if e.get("kind") == "public_summary_approved"]
    assert approved[0]["fields"]["summary"]["value"] == "A draft nobody approved"
    proposed = [e for e in log["events"] if e.get("kind") == "public_summary_proposed"]
    assert proposed == []  # the reviewers' draft is a hash only in public


def test_csv_and_json_are_exactly_the_page(client, ctx, three):
    more = [
        _summarised(ctx, summary=f"Summary number {n}", mechanism=three[0].mechanism)
        for n in range(3)
    ]
    code = three[0].mechanism.code
    for query in ("", "?stage=received", f"?after={more[1].id}", "?year=1999"):
        page = client.get(f"/registry/{code}{query}").text
        on_page = re.findall(r'class="reference">([^<]+)</bdi></a>', page)
        rows = list(csv.reader(io.StringIO(client.get(f"/registry/{code}/cases.csv{query}").text)))
        assert tuple(rows[0]) == registry.CSV_COLUMNS
        data = client.get(f"/api/v1/registry/{code}{query}").get_json()
        assert [row[0] for row in rows[1:]] == on_page, query
        assert [case["reference"] for case in data["cases"]] == on_page, query
        for row, case in zip(rows[1:], data["cases"], strict=True):
            assert row[-1] == (case["summary"] or "")
            assert case["summary"] in page if case["summary"] else True
    assert client.get(f"/registry/{code}?year=1999").text.count('class="reference"') == 0


def test_keyset_pages_walk_every_published_case_once(ctx, three):
    for n in range(4):
        _summarised(ctx, summary=f"Summary number {n}", mechanism=three[0].mechanism)
    mechanism = three[0].mechanism
    seen: list[str] = []
    after = None
    while True:
        page = registry.page(ctx, mechanism, after=after, size=2)
        seen += [entry.reference for entry in page.entries]
        if page.next_after is None:
            break
        after = page.next_after
    everything = registry.page(ctx, mechanism, size=1000)
    assert seen == [entry.reference for entry in everything.entries]
    assert len(seen) == len(set(seen)) >= 5


def test_the_atom_feed_is_valid_and_holds_only_public_events(client, ctx, three):
    shown = three[0]
    response = client.get(f"/registry/{shown.mechanism.code}/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)  # noqa: S314 - our own feed
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    assert entries
    ids = set()
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert (entry.findtext(f"{ATOM}{name}") or "").strip(), name
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", entry.findtext(f"{ATOM}updated")
        )
        ids.add(entry.findtext(f"{ATOM}id"))
        assert shown.reference in entry.findtext(f"{ATOM}title")
    assert len(ids) == len(entries)


def test_companies_are_named_only_when_the_policy_says_so(ctx, three):
    shown = three[0]
    entry = registry.find(ctx, shown.mechanism, shown.reference)
    assert entry is not None
    assert entry.companies == ()
    assert ctx.policy(shown.mechanism).registry.companies == "none"


def test_a_case_page_shows_its_log_head_and_how_to_check_it(ctx, client, three):
    shown = three[0]
    transparency.integrate(ctx, "registry.test/transparency")
    ctx.session.commit()
    page = client.get(f"/registry/{shown.mechanism.code}/{shown.reference}").text
    log = transparency.case_log(ctx, shown, transparency.Visibility.PUBLIC)
    assert log["head_hash"] in page
    assert "python docs/verify_case.py http" in page
    assert f"/api/v1/transparency/cases/{shown.reference}" in page
