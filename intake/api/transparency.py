"""The transparency log's public endpoints (docs/transparency.md): the latest signed
checkpoint, the verifier key, a published case's chain with its inclusion proof, and
consistency proofs between two tree sizes. Read-only, no cookies, rate-limited per
address; a case that is not published answers 404 as anywhere public
(`services.transparency.is_published`)."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from grievance.extensions import csrf, db
from grievance.extensions import intake_limiter as limiter
from grievance.http.context import current_settings, service_context
from grievance.models import Case, Visibility
from grievance.services import transparency

blueprint = Blueprint("transparency", __name__, url_prefix="/api/v1/transparency")
csrf.exempt(blueprint)  # GET only, no cookies

READS = "120 per minute; 3000 per hour"
TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def _origin() -> str:
    return transparency.origin_for(current_settings().public_base_url)


def _refuse(status: int, message: str) -> ResponseReturnValue:
    return jsonify({"errors": [{"path": "", "message": message}]}), status


@blueprint.get("/checkpoint")
@limiter.limit(READS)
def checkpoint() -> ResponseReturnValue:
    latest = transparency.latest_checkpoint(db.session())
    if latest is None:
        return _refuse(404, "No checkpoint has been signed yet.")
    return latest.note, 200, TEXT


@blueprint.get("/key")
@limiter.limit(READS)
def key() -> ResponseReturnValue:
    return transparency.verifier_key(service_context(), _origin()) + "\n", 200, TEXT


@blueprint.get("/cases/<reference>")
@limiter.limit(READS)
def case(reference: str) -> ResponseReturnValue:
    ctx = service_context()
    found = db.session.scalars(select(Case).where(Case.reference == reference)).first()
    if found is None or not transparency.is_published(ctx, found):
        abort(404)
    return jsonify(transparency.case_log(ctx, found, Visibility.PUBLIC))


@blueprint.get("/consistency")
@limiter.limit(READS)
def consistency() -> ResponseReturnValue:
    old = request.args.get("from", type=int)
    new = request.args.get("to", type=int)
    latest = transparency.latest_checkpoint(db.session())
    size = latest.tree_size if latest else 0
    if old is None or new is None or not 0 <= old <= new <= size:
        return _refuse(400, f"Give from and to, two tree sizes with 0 <= from <= to <= {size}.")
    proof = transparency.consistency_proof(db.session(), old, new)
    return jsonify({"from": old, "to": new, "proof": [node.hex() for node in proof]})
