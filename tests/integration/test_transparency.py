"""The transparency log (issue 16, item 2): redactable events, the Merkle tree and its
signed checkpoints, the public endpoints, and the standalone verifier (docs/)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select, update

from grievance.models import (
    Anonymity,
    CaseEvent,
    Checkpoint,
    ComplainantKind,
    MerkleNode,
    ReprisalRisk,
    TransparencyLog,
    Visibility,
)
from grievance.scheduler import JOBS
from grievance.services import caselog, cases, transparency
from grievance.services.actors import Actor
from grievance.services.filing import ComplainantDetails
from tests.factories import staff_case

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "grievance.test/transparency"


def _verifier():
    spec = importlib.util.spec_from_file_location("verify_case", ROOT / "docs" / "verify_case.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verifier = _verifier()


def _consenting(publish: bool = True) -> ComplainantDetails:
    return ComplainantDetails(
        anonymity=Anonymity.ANONYMOUS,
        kind=ComplainantKind.AFFECTED,
        consents={"publish_summary": publish},
    )


def published_case(ctx, risk=ReprisalRisk.LOW, publish=True):
    filed, lead, _second = staff_case(ctx, complainant=_consenting(publish))
    cases.assess_reprisal_risk(ctx, filed.case, Actor.for_user(lead), risk)
    ctx.session.flush()
    return filed.case


def _fetcher(client):
    def fetch(path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.data[:200])
        return response.data

    return fetch


@pytest.fixture
def client(app):
    return app.test_client()


# -- redactable events ------------------------------------------------------------------


def test_every_event_stores_a_salt_per_field_and_verifies(ctx):
    case = published_case(ctx)
    for event in ctx.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)):
        assert set(event.salts) == {*event.payload, caselog.ACTOR_FIELD}
        assert event.hash == caselog.compute_hash(event, case.reference)
    assert caselog.verify_case(ctx.session, case) is None


def test_a_redacted_view_verifies_against_the_same_chain_as_the_full_view(ctx):
    case = published_case(ctx)
    views = {
        audience: transparency.case_log(ctx, case, audience)
        for audience in (Visibility.PUBLIC, Visibility.PARTIES, Visibility.INTERNAL)
    }
    heads = {audience: verifier.check_chain(view) for audience, view in views.items()}
    assert len(set(heads.values())) == 1 == len({case.log_head, *heads.values()})
    public = views[Visibility.PUBLIC]["events"]
    full = views[Visibility.INTERNAL]["events"]
    # events the public may not see are only their hash
    hidden = [e for e in public if "kind" not in e]
    assert hidden
    assert all(set(e) == {"seq", "hash"} for e in hidden)
    filed = public[0]
    assert filed["kind"] == "case_filed"
    assert filed["fields"]["reference"]["value"] == case.reference
    # a field the public may not see: its digest only, the same digest as the full view's
    assert set(filed["fields"]["channel"]) == {"digest"}
    assert filed["fields"]["channel"]["digest"] == full[0]["fields"]["channel"]["digest"]
    assert set(filed["fields"][caselog.ACTOR_FIELD]) == {"digest"}
    assert "salt" in full[0]["fields"]["channel"]


def test_a_revealed_field_that_was_changed_fails_the_check(ctx):
    case = published_case(ctx)
    view = transparency.case_log(ctx, case, Visibility.PUBLIC)
    view["events"][0]["fields"]["country"]["value"] = "NL"
    with pytest.raises(verifier.Failed, match="does not match its digest"):
        verifier.check_chain(view)


# -- the tree and its checkpoints ---------------------------------------------------


def test_integrating_gives_each_event_a_leaf_and_signs_a_checkpoint(ctx):
    case = published_case(ctx)
    done = transparency.integrate(ctx, ORIGIN)
    assert done is not None
    assert done.checkpoint is not None
    size = done.size
    events = ctx.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert all(event.leaf_index is not None and event.leaf_index < size for event in events)
    assert ctx.session.scalar(select(CaseEvent).where(CaseEvent.leaf_index.is_(None))) is None
    assert ctx.session.get(TransparencyLog, 1).size == size
    # nothing new: no new checkpoint
    again = transparency.integrate(ctx, ORIGIN)
    assert again is not None
    assert again.added == 0
    assert again.checkpoint is None
    # the stored root is the root of the leaves in order
    leaves = ctx.session.scalars(
        select(CaseEvent.hash)
        .where(CaseEvent.leaf_index.is_not(None))
        .order_by(CaseEvent.leaf_index)
    ).all()
    from grievance.services.merkle import MemoryTree

    expected = MemoryTree(bytes.fromhex(h) for h in leaves).root()
    assert done.checkpoint.root_hash == expected.hex() == transparency.root(ctx.session, size).hex()


def test_the_signed_note_is_a_c2sp_checkpoint_that_verifies_with_ed25519(ctx, keyring):
    published_case(ctx)
    checkpoint = transparency.integrate(ctx, ORIGIN).checkpoint
    note = checkpoint.note
    match = re.fullmatch(
        r"(?P<body>(?P<origin>[^\n]+)\n(?P<size>[1-9][0-9]*)\n(?P<root>[A-Za-z0-9+/]{43}=)\n)"
        r"\n\u2014 (?P<name>[^ \n]+) (?P<sig>[A-Za-z0-9+/=]+)\n",
        note,
    )
    assert match, note
    assert match["origin"] == match["name"] == ORIGIN
    assert int(match["size"]) == checkpoint.tree_size
    assert base64.b64decode(match["root"]).hex() == checkpoint.root_hash
    vkey = transparency.verifier_key(ctx, ORIGIN)
    name, key_id, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded)
    assert name == ORIGIN
    assert raw[0] == 1
    assert len(raw) == 33
    assert key_id == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + raw[1:]).digest()[:4].hex()
    blob = base64.b64decode(match["sig"])
    assert blob[:4].hex() == key_id
    assert len(blob) == 68
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], match["body"].encode())
    assert verifier.open_checkpoint(note, vkey)[1] == checkpoint.tree_size


def test_a_rewritten_chain_with_recomputed_hashes_no_longer_matches_an_earlier_checkpoint(ctx):
    case = published_case(ctx)
    saved = transparency.integrate(ctx, ORIGIN).checkpoint
    saved_note, old_size = saved.note, saved.tree_size
    old_root = bytes.fromhex(saved.root_hash)
    # A database administrator rewrites the case's first event, recomputes every hash of
    # its chain and its head, and rebuilds the tree (even signing a new checkpoint).
    events = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    events[0].payload = {**events[0].payload, "country": "NL"}
    previous = caselog.GENESIS
    for event in events:
        event.prev_hash = previous
        event.hash = caselog.compute_hash(event, case.reference)
        previous = event.hash
    case.log_head = previous
    ctx.session.flush()
    assert caselog.verify_case(ctx.session, case) is None  # the chain alone cannot tell
    ctx.session.execute(update(CaseEvent).values(leaf_index=None))
    ctx.session.execute(delete(MerkleNode))
    ctx.session.execute(delete(Checkpoint))
    ctx.session.execute(update(TransparencyLog).values(size=0))
    forged = transparency.integrate(ctx, ORIGIN)
    new_root = bytes.fromhex(forged.checkpoint.root_hash)
    proof = transparency.consistency_proof(ctx.session, old_size, forged.size)
    with pytest.raises(verifier.Failed, match=r"not an extension|forked"):
        verifier.verify_consistency(old_size, forged.size, old_root, new_root, proof)
    # and the case's new head is not in the checkpoint saved before
    head = events[-1]
    if head.leaf_index < old_size:
        path = transparency.inclusion_proof(ctx.session, head.leaf_index, old_size)
        with pytest.raises(verifier.Failed, match="inclusion proof fails"):
            verifier.verify_inclusion(
                head.leaf_index,
                old_size,
                verifier.leaf_hash(bytes.fromhex(head.hash)),
                path,
                old_root,
            )
    assert saved_note.startswith(ORIGIN)


def test_the_worker_integrates_every_few_minutes_and_at_start(ctx):
    """The job runs with the others at the worker's start (`run_forever` calls `run_once`
    first) and every two minutes; a run integrates and signs."""
    job = next(job for job in JOBS if job.name == "transparency log")
    assert job.seconds <= 300
    published_case(ctx)
    outcome = job.run(ctx)
    assert "checkpoint" in str(outcome)
    assert "signed" in str(outcome)
    assert (
        transparency.latest_checkpoint(ctx.session).tree_size
        == ctx.session.get(TransparencyLog, 1).size
    )


# -- the endpoints and the standalone verifier ----------------------------------------


def test_the_verifier_checks_a_case_from_the_endpoints(ctx, client):
    case = published_case(ctx)
    origin = transparency.origin_for("http://localhost")  # the test app's PUBLIC_BASE_URL?
    from grievance.http.context import current_settings

    origin = transparency.origin_for(current_settings().public_base_url)
    first = transparency.integrate(ctx, origin).checkpoint.note
    cases.assess_reprisal_risk(
        ctx, case, Actor.for_user(case.assignments[0].reviewer), ReprisalRisk.MEDIUM
    )
    transparency.integrate(ctx, origin)
    vkey = client.get("/api/v1/transparency/key").data.decode()
    report = verifier.verify(_fetcher(client), case.reference, vkey.strip(), saved=first)
    assert any("leaf" in line for line in report)
    assert any("without rewriting" in line for line in report)
    answer = client.get(f"/api/v1/transparency/cases/{case.reference}")
    assert answer.mimetype == "application/json"
    document = answer.get_json()
    assert document["head_hash"] == case.log_head
    assert all(isinstance(node, str) and len(node) == 64 for node in document["inclusion_proof"])
    text = client.get("/api/v1/transparency/checkpoint")
    assert text.mimetype == "text/plain"
    assert text.data.decode().startswith(origin + "\n")


def test_a_payload_changed_in_the_database_fails_the_verifier(ctx, client):
    case = published_case(ctx)
    transparency.integrate(ctx, transparency.origin_for(_base()))
    first = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 1)
    ).one()
    first.payload = {**first.payload, "country": "NL"}
    ctx.session.flush()
    with pytest.raises(verifier.Failed, match="altered"):
        verifier.verify(_fetcher(client), case.reference)


def test_an_event_deleted_from_the_database_fails_the_verifier(ctx, client):
    case = published_case(ctx)
    transparency.integrate(ctx, transparency.origin_for(_base()))
    ctx.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 2))
    with pytest.raises(verifier.Failed, match="expected"):
        verifier.verify(_fetcher(client), case.reference)


def _base():
    from grievance.http.context import current_settings

    return current_settings().public_base_url


@pytest.mark.parametrize(
    "withheld",
    [
        {"risk": ReprisalRisk.HIGH},
        {"risk": None},
        {"publish": False},
        {"mechanism_publishes": False},
        {"reference": "TEX-2026-99999"},
    ],
    ids=lambda withheld: next(iter(withheld)),
)
def test_a_withheld_case_answers_404(ctx, client, withheld):
    risk = withheld.get("risk", ReprisalRisk.LOW)
    case = published_case(ctx, risk=risk or ReprisalRisk.LOW, publish=withheld.get("publish", True))
    if "risk" in withheld and withheld["risk"] is None:
        case.reprisal_risk = None
    if withheld.get("mechanism_publishes") is False:
        case.mechanism.publishes_cases = False
    ctx.session.flush()
    transparency.integrate(ctx, transparency.origin_for(_base()))
    reference = withheld.get("reference", case.reference)
    assert not transparency.is_published(ctx, case) or "reference" in withheld
    answer = client.get(f"/api/v1/transparency/cases/{reference}")
    assert answer.status_code == 404
    assert case.reference.encode() not in answer.data


def test_consistency_answers_a_proof_and_refuses_bad_sizes(ctx, client):
    published_case(ctx)
    first = transparency.integrate(ctx, transparency.origin_for(_base())).size
    published_case(ctx)
    second = transparency.integrate(ctx, transparency.origin_for(_base())).size
    answer = client.get(f"/api/v1/transparency/consistency?from={first}&to={second}")
    assert answer.status_code == 200
    assert answer.get_json()["proof"] == [
        node.hex() for node in transparency.consistency_proof(ctx.session, first, second)
    ]
    for query in ("from=2&to=1", f"from=0&to={second + 1}", "from=x&to=1", ""):
        refused = client.get(f"/api/v1/transparency/consistency?{query}")
        assert refused.status_code == 400, query
        assert json.loads(refused.data)["errors"]


# -- the migration to form 2 ------------------------------------------------------------


def test_the_migration_rechains_every_case_and_says_so(ctx):
    """0021's re-chaining, run again over the test's events: each chain verifies in form
    2 (its own copy of the hash form agrees with `caselog`), with one `log_rechained`
    event at its end saying how many events it re-chained."""
    spec = importlib.util.spec_from_file_location(
        "migration_0021", ROOT / "migrations" / "versions" / "0021_transparency_log.py"
    )
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    case = published_case(ctx)
    before = case.event_count
    old_head = case.log_head
    migration.rechain(ctx.session.connection(), now=ctx.now())
    ctx.session.expire_all()
    assert case.event_count == before + 1
    assert case.log_head != old_head
    last = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == before + 1)
    ).one()
    assert last.kind == "log_rechained"
    assert last.payload == {"form": 2, "events": before}
    assert last.visibility is Visibility.PUBLIC
    assert caselog.verify_case(ctx.session, case) is None
    assert list(caselog.verify_all(ctx.session, case.reference)) == []


def test_verify_log_finds_an_event_rewritten_after_it_was_integrated(ctx):
    case = published_case(ctx)
    transparency.integrate(ctx, ORIGIN)
    assert list(transparency.verify_tree(ctx.session)) == []
    assert list(transparency.verify_tree(ctx.session, case.reference)) == []
    events = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    events[0].payload = {**events[0].payload, "country": "NL"}
    previous = caselog.GENESIS
    for event in events:  # the chain recomputed: verify_case alone cannot tell
        event.prev_hash = previous
        event.hash = caselog.compute_hash(event, case.reference)
        previous = event.hash
    case.log_head = previous
    ctx.session.flush()
    assert caselog.verify_case(ctx.session, case) is None
    found = list(transparency.verify_tree(ctx.session, case.reference))
    assert len(found) == len(events)
    assert "rewritten after it was integrated" in found[0]
    ctx.session.execute(delete(MerkleNode).where(MerkleNode.level > 0))
    assert any("no longer gives its root" in line for line in transparency.verify_tree(ctx.session))


def test_the_verifier_script_exits_0_when_all_holds_and_1_otherwise(
    ctx, client, monkeypatch, capsys
):
    case = published_case(ctx)
    transparency.integrate(ctx, transparency.origin_for(_base()))
    monkeypatch.setattr(verifier, "http_fetch", lambda base_url: _fetcher(client))
    vkey = client.get("/api/v1/transparency/key").data.decode().strip()
    assert verifier.main(["http://test", case.reference, "--key", vkey]) == 0
    other = transparency.checkpoints.verifier_key(transparency.origin_for(_base()), bytes(32))
    assert verifier.main(["http://test", case.reference, "--key", other]) == 1


def test_integrating_in_batches_signs_once_caught_up(ctx):
    published_case(ctx)
    published_case(ctx)
    before = transparency.latest_checkpoint(ctx.session)
    first = transparency.integrate(ctx, ORIGIN, batch=3)
    assert first.added == 3
    assert first.checkpoint is None  # more wait: no checkpoint of a half-integrated load
    assert transparency.latest_checkpoint(ctx.session) is before
    rest = [transparency.integrate(ctx, ORIGIN, batch=3) for _ in range(20)]
    signed = [done.checkpoint for done in rest if done.checkpoint is not None]
    assert len(signed) == 1
    assert signed[0].tree_size == ctx.session.get(TransparencyLog, 1).size


def test_the_endpoints_send_the_headers_of_the_other_api_routes(ctx, client):
    published_case(ctx)
    transparency.integrate(ctx, transparency.origin_for(_base()))
    reference = client.get("/api/v1/openapi.json")
    for path in ("/api/v1/transparency/checkpoint", "/api/v1/transparency/key"):
        answer = client.get(path)
        missing = {
            name
            for name in reference.headers.keys()  # noqa: SIM118 - Headers, not a dict
            if name not in answer.headers
            and name
            not in {
                "Content-Type",
                "Content-Length",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "Retry-After",
            }
        }
        assert missing == set(), (path, missing)
        assert "X-RateLimit-Limit" in answer.headers
        assert "Set-Cookie" not in answer.headers
