"""The JSON intake API for partner apps (a union's app, a call-centre tool).

A channel like the web form: requests are validated with pydantic, turned into a
`Filing` or a message, and handed to the services. Errors come back as
`{"errors": [{"path": "contact.phone", "message": "..."}]}`. The OpenAPI document is
built from the same models, at `/api/v1/openapi.json`. A partner application sends its
key as a bearer token for limits of its own (`intake.api.partners`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from sqlalchemy import select
from werkzeug.exceptions import BadRequest

from grievance.extensions import csrf, db
from grievance.http.context import service_context
from grievance.http.limits import receipt_code_everyone, receipt_code_per_client
from grievance.models import (
    Anonymity,
    Case,
    Channel,
    Complainant,
    ComplainantKind,
    ContactChannel,
    Mechanism,
    Role,
)
from grievance.services.actors import Actor
from grievance.services.casereads import complainant_view
from grievance.services.errors import Code, InvalidInput
from grievance.services.filing import (
    ComplainantDetails,
    FiledOnce,
    Filing,
    file_case,
    file_once,
    find_complainant,
)
from grievance.services.messages import add_message
from grievance.services.submissions import KeyReused
from intake.api import idempotency, own_words, partners
from intake.api.idempotency import IDEMPOTENCY_HEADER, BadKey, idempotency_key, scope
from intake.api.partners import (
    complaints_per_address,
    complaints_per_client,
    refuse_wrong_keys,
)
from intake.api.schemas import (
    ComplaintIn,
    ComplaintOut,
    DeadlineOut,
    ErrorItem,
    ErrorOut,
    EventOut,
    FollowupIn,
    FollowupMessageIn,
    FollowupOut,
    MessageOut,
)

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(blueprint)  # no cookies: nothing for a forged request to ride on
blueprint.after_request(partners.record_use)


Model = TypeVar("Model", bound=BaseModel)


class _Refused(Exception):
    def __init__(self, status: int, errors: list[tuple[str, str]]) -> None:
        self.status = status
        self.errors = errors


def _errors(
    status: int, errors: list[tuple[str, str]], headers: dict[str, str] | None = None
) -> ResponseReturnValue:
    body = ErrorOut(errors=[ErrorItem(path=path, message=message) for path, message in errors])
    return jsonify(body.model_dump()), status, headers or {}


@blueprint.errorhandler(BadKey)
def _bad_key(error: BadKey) -> ResponseReturnValue:
    return _errors(422, [(IDEMPOTENCY_HEADER, str(error))])


@blueprint.errorhandler(_Refused)
def _refused(error: _Refused) -> ResponseReturnValue:
    return _errors(error.status, error.errors)


@blueprint.errorhandler(429)
def _too_many(_error: Exception) -> ResponseReturnValue:
    return _errors(429, [("", "Too many requests; try again later.")])


@blueprint.errorhandler(partners.WrongKey)
def _wrong_key(_error: partners.WrongKey) -> ResponseReturnValue:
    return _errors(401, [("", partners.REFUSED_KEY)], {"WWW-Authenticate": partners.CHALLENGE})


def _parse(model: type[Model]) -> Model:
    if not request.is_json:
        raise _Refused(415, [("", "Send application/json.")])
    try:
        data = request.get_json()
    except (BadRequest, RecursionError):  # not JSON; or nested deeper than json can read
        raise _Refused(400, [("", "The body is not valid JSON.")]) from None
    # JSON `null` is JSON of the wrong shape, like `[]`: the model refuses it (422, path "").
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _Refused(
            422,
            [
                (".".join(str(part) for part in item["loc"]), item["msg"])
                for item in error.errors(include_url=False)
            ],
        ) from None


#: Where the filing service's field names sit in the request (the contact address: see
#: `_ADDRESS_PATHS`); the others have the same name in both.
_PATHS = {
    "location": "site",
    "name": "identity.name",
    "details": "identity.details",
    "anonymity": "identity.name",
}
#: The field that holds the contact address, by channel.
_ADDRESS_PATHS = {
    ContactChannel.SMS: "contact.phone",
    ContactChannel.WHATSAPP: "contact.phone",
    ContactChannel.EMAIL: "contact.email",
}


#: What a service's refusal says, in English like the API's other messages, by its code.
PROBLEMS: dict[Code, str] = {
    Code.REQUIRED: "Required.",
    Code.TOO_LONG: "At most {max} characters.",
    Code.OUT_OF_RANGE: "A number from {min} to {max}.",
    Code.UNKNOWN: "Not one of the known values.",
    Code.INVALID_CHARACTER: "Contains a control character other than tab, line feed and "
    "carriage return (such as U+0000), or a lone surrogate.",
    Code.NOT_OFFERED: "The mechanism does not offer this language.",
    Code.INVALID_PHONE: "A phone number with its country code, starting with +.",
    Code.INVALID_EMAIL: "An e-mail address, like name@example.org.",
    Code.CONTACT_WITHOUT_CHANNEL: "An address needs a contact channel that uses it.",
    Code.NAMED_WHEN_ANONYMOUS: "An anonymous complaint cannot carry a name or details.",
    Code.SHARE_REQUIRES_OPEN: "Only an open complaint can share the identity with companies.",
    Code.RECEIVED_IN_FUTURE: "This day has not come yet.",
    Code.NOT_A_STAFF_CHANNEL: "Staff record complaints received by phone, letter or in person.",
    Code.NOT_A_REVIEWER: "Not an active reviewer.",
    Code.ALREADY_ASSIGNED: "Already assigned to this case.",
    Code.NOT_ASSIGNED: "Not assigned to this case.",
    Code.NO_PROFILE: "The reviewer has no profile yet.",
    Code.ALREADY_DECLARED: "Already declared.",
    Code.ALREADY_WITHDRAWN: "Already withdrawn.",
    Code.ALREADY_IN_CASE: "Already in this case.",
    Code.NOT_IN_CASE: "Not in this case.",
    Code.ALREADY_PROPOSED: "A proposal waits for a second reviewer already.",
    Code.SAME_REVIEWER: "Another reviewer of the case must confirm this.",
    Code.ALREADY_DONE: "This was already decided.",
    Code.NO_EXTENSION_LEFT: "No extension is left.",
}


def _problems(refused: InvalidInput, paths: dict[str, str]) -> list[tuple[str, str]]:
    """A service's refusal as the API's errors: the path of each field, in the request, and
    what is wrong with it (the service's reason where it gives one: why a phone number
    is none)."""
    return [
        (
            paths.get(field, field),
            refused.reasons.get(field) or PROBLEMS[code].format(**refused.limits.get(field, {})),
        )
        for field, code in refused.errors.items()
    ]


@blueprint.post("/complaints")
@complaints_per_address
@complaints_per_client
@refuse_wrong_keys
def complaints() -> ResponseReturnValue:
    payload = _parse(ComplaintIn)
    ctx = service_context()
    mechanism = db.session.scalar(select(Mechanism).where(Mechanism.code == payload.mechanism))
    if mechanism is None:
        raise _Refused(422, [("mechanism", "Unknown mechanism.")])
    contact = ContactChannel(payload.contact.channel)
    address = {
        ContactChannel.SMS: payload.contact.phone,
        ContactChannel.WHATSAPP: payload.contact.phone,
        ContactChannel.EMAIL: payload.contact.email,
    }.get(contact)
    filing = Filing(
        mechanism=mechanism,
        channel=Channel.API,
        language=payload.language,
        statement=payload.statement,
        themes=payload.themes,
        country=payload.country,
        location=payload.site,
        companies="\n".join(payload.companies),
        urgent=payload.urgent,
        api_client=partners.current_client(),
        complainant=ComplainantDetails(
            anonymity=Anonymity(payload.anonymity),
            kind=ComplainantKind(payload.complainant_kind),
            contact_channel=contact,
            contact_address=address or "",
            name=payload.identity.name,
            details=payload.identity.details,
            represents=payload.represents,
            consents=payload.consents.model_dump(),
        ),
    )
    key = idempotency_key()
    try:
        if key is None:
            filed = file_case(ctx, filing, Actor(role=Role.COMPLAINANT))
            once = FiledOnce(filed.case, filed.complainant, filed.receipt_code, replayed=False)
        else:
            once = file_once(ctx, filing, Actor(role=Role.COMPLAINANT), scope=scope(), key=key)
    except InvalidInput as refused:
        paths = {**_PATHS, "contact_address": _ADDRESS_PATHS.get(contact, "contact.channel")}
        raise _Refused(422, _problems(refused, paths)) from None
    except KeyReused:
        problem = "This key was sent with another complaint."
        raise _Refused(422, [(IDEMPOTENCY_HEADER, problem)]) from None
    if once.receipt_code is None:  # the same key after the receipt code is shown no more
        db.session.commit()
        problem = f"Already filed as {once.case.reference}; its receipt code is shown no more."
        raise _Refused(409, [(IDEMPOTENCY_HEADER, problem)])
    if not once.replayed:
        partners.record_filing(once.case, 201)
    db.session.commit()
    body = ComplaintOut(reference=once.case.reference, receipt_code=once.receipt_code)
    response = jsonify(body.model_dump())
    if once.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


def _complainant(code_text: str) -> Complainant:
    found = find_complainant(service_context(), code_text)
    if found is None:
        raise _Refused(404, [("receipt_code", "Unknown receipt code.")])
    return found


def _followup(complainant: Complainant) -> FollowupOut:
    """The complainant's view of their case (`casereads.complainant_view`), as JSON."""
    case = db.session.get_one(Case, complainant.case_id)
    view = complainant_view(service_context(), case, complainant)
    return FollowupOut(
        reference=view.reference,
        stage=view.stage.value,
        waiting_for_complainant=view.waiting,
        deadlines=[
            DeadlineOut(code=limit.code, due_at=limit.due_at, paused=limit.paused)
            for limit in view.time_limits
        ],
        events=[
            EventOut(
                at=event.at,
                kind=event.kind,
                stage_from=event.stage_from.value if event.stage_from else None,
                stage_to=event.stage_to.value if event.stage_to else None,
                details=event.details(),
            )
            for event in view.events
        ],
        messages=[
            MessageOut(
                at=message.created_at,
                from_complainant=message.from_complainant,
                body=message.body,
                translations=own_words.translations_out(message),
            )
            for message in view.messages
        ],
        **own_words.own_words(view),
    )


@blueprint.post("/followup")
@receipt_code_per_client
@receipt_code_everyone
@refuse_wrong_keys
def followup() -> ResponseReturnValue:
    payload = _parse(FollowupIn)
    return jsonify(_followup(_complainant(payload.receipt_code)).model_dump(mode="json"))


@blueprint.post("/followup/messages")
@receipt_code_per_client
@receipt_code_everyone
@refuse_wrong_keys
def followup_message() -> ResponseReturnValue:
    payload = _parse(FollowupMessageIn)
    complainant = _complainant(payload.receipt_code)
    case = db.session.get_one(Case, complainant.case_id)
    try:
        add_message(
            service_context(), case, Actor.for_complainant(complainant), payload.body, Channel.API
        )
    except InvalidInput as refused:
        raise _Refused(422, _problems(refused, {})) from None
    db.session.commit()
    return jsonify(_followup(complainant).model_dump(mode="json")), 201


def _operation(
    summary: str, request_model: type[BaseModel], ok: int, response_model: type[BaseModel]
) -> dict[str, Any]:
    def ref(model: type[BaseModel]) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def error(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": ref(ErrorOut)}},
        }

    return {
        "summary": summary,
        # Anonymous, or a partner application's key.
        "security": [{}, {partners.SCHEME: []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref(request_model)}},
        },
        "responses": {
            str(ok): {
                "description": "Done",
                "content": {"application/json": {"schema": ref(response_model)}},
            },
            "400": error("The body is not JSON"),
            "401": error("The API key is wrong or revoked"),
            "404": error("Unknown receipt code"),
            "409": error("Filed before with this Idempotency-Key; the code is shown no more"),
            "415": error("Not application/json"),
            "422": error("Invalid input, with the path of each field"),
            "429": error("Too many requests"),
        },
    }


def openapi_document() -> dict[str, Any]:
    from intake.api import remedy  # its routes join this blueprint (grievance/app.py)

    models: list[type[BaseModel]] = [
        ComplaintIn,
        ComplaintOut,
        FollowupIn,
        FollowupMessageIn,
        FollowupOut,
        ErrorOut,
        *remedy.MODELS,
    ]
    _, schemas = models_json_schema(
        [
            (model, "validation" if model.__name__.endswith("In") else "serialization")
            for model in models
        ],
        ref_template="#/components/schemas/{model}",
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Grievance mechanism intake API", "version": "1"},
        "paths": {
            "/api/v1/complaints": {
                "post": {
                    **_operation("File a complaint", ComplaintIn, 201, ComplaintOut),
                    "parameters": [idempotency.PARAMETER],
                }
            },
            "/api/v1/followup": {
                "post": _operation(
                    "Follow a complaint with its receipt code", FollowupIn, 200, FollowupOut
                )
            },
            "/api/v1/followup/messages": {
                "post": _operation("Write to the reviewers", FollowupMessageIn, 201, FollowupOut)
            },
            **remedy.operations(_operation),
        },
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {partners.SCHEME: partners.SECURITY_SCHEME},
        },
    }


@blueprint.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())
