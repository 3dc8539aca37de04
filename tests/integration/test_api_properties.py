"""Properties of the JSON intake API (`intake/api.py`), with Hypothesis.

1. A statement or a message in any Unicode (right-to-left scripts, combining marks,
   emoji, astral planes, controls) that the API accepts is kept as written: read back it
   is the same text, NFC-normalised and stripped of surrounding white space
   (`texts.normalise`), nothing else. What it refuses is only what it documents: a text
   with nothing visible in it, one with a control character other than tab, line feed
   and carriage return (NUL ...), or one that JSON can carry but Unicode cannot (a lone
   surrogate, `"\\ud800"`): `tests/texts_rules.py`.
2. Whatever JSON is sent, the answer is 201/200 with what the document promises, or a
   refusal (400, 404, 422) whose errors each name the path of the field at fault; never
   a server error.
3. A receipt code opens exactly its own case, however it is typed; any other code opens
   nothing.

The app, its database session and the limiter are per test (tests/conftest.py), while
Hypothesis runs many examples in one test. So each test takes its fixtures, then runs
an inner `@given` function (no function-scoped fixture is shared with Hypothesis behind
its back): every example resets the limiter first, and the cases it files stay in the
test's transaction, identified by their reference, until the test's rollback.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from typing import Any, get_origin

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from grievance.extensions import intake_limiter as limiter
from grievance.models import Case, Mechanism
from grievance.policies import default_policy
from grievance.services.context import Context
from intake.api.schemas import ComplaintIn, FollowupIn, FollowupMessageIn
from tests.factories import make_mechanism
from tests.phone_numbers import international_numbers
from tests.texts_rules import kept, refused

#: Enough examples to find what is there, few enough to stay fast on SQLite.
PROPERTY = settings(max_examples=75, deadline=None)

POLICY = default_policy()
LANGUAGES = list(POLICY.languages)
THEMES = sorted(POLICY.theme_codes)
REFERENCE = re.compile(r"API-[0-9]{4}-[0-9]{5}")
RECEIPT = re.compile(r"[0-9]{16}")

# -- Unicode --------------------------------------------------------------------------------

#: Clusters that NFC changes, or that are easy to get wrong: a decomposed é, Hangul jamo,
#: the Ångström and Ohm signs, Devanagari qa (a composition exclusion: NFC decomposes it),
#: a CJK compatibility ideograph, what only NFKC would change (a ligature, a superscript,
#: half-width katakana, a Roman numeral), a family emoji with its joiners, a flag, a skin
#: tone, text in both directions with its marks and isolates, conjuncts.
CLUSTERS = [
    "e\u0301",
    "\u1100\u1161\u11a8",
    "\u212b",
    "\u2126",
    "\ufb01",
    "\u00b2",
    "\uff76\uff9e",
    "\u216b",
    "\u0958",
    "\uf900",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1e7\U0001f1e9",
    "\U0001f44b\U0001f3fd",
    "\u202bمرحبا\u202c",
    "\u2067שלום\u2069",
    "\u200f",
    "ক্ষ",
    "\u0dc1\u0dca\u200d\u0dbb\u0dd3",
]
CHARACTERS = st.one_of(
    st.characters(),  # any code point, lone surrogates included
    st.characters(min_codepoint=0x0590, max_codepoint=0x08FF),  # Hebrew, Arabic, Syriac ...
    st.characters(categories=["Mn", "Mc", "Me"]),  # combining marks, also leading ones
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.characters(min_codepoint=0x10000),  # astral planes
    st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]),  # controls, formats, spaces
    st.sampled_from(CLUSTERS),
)
TEXTS = st.lists(CHARACTERS, max_size=40).map("".join)


def _paths(response: TestResponse) -> list[str]:
    return [error["path"] for error in response.get_json()["errors"]]


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def mechanism(ctx: Context) -> Mechanism:
    return make_mechanism(ctx, code="API")


@pytest.fixture
def client(app: Flask, mechanism: Mechanism) -> FlaskClient:
    return app.test_client()


def _file(client: FlaskClient, **fields: Any) -> TestResponse:
    body = {"mechanism": "API", "language": "bn", "statement": "মজুরি দেওয়া হয়নি", **fields}
    return client.post("/api/v1/complaints", json=body)


def _read_statement(ctx: Context, reference: str) -> str:
    case = ctx.session.scalars(select(Case).where(Case.reference == reference)).one()
    return ctx.vault.open(case.id, "statement", case.statement_enc)


# -- 1. any Unicode, kept as written ------------------------------------------------------


def test_a_statement_is_kept_as_written(ctx: Context, client: FlaskClient) -> None:
    outcomes: Counter[int] = Counter()

    # the examples make sure both sides are always tried, whatever Hypothesis draws
    @PROPERTY
    @example(statement="মজুরি দেওয়া হয়নি। Wages unpaid.")
    @example(statement=" \n ")
    @given(statement=TEXTS)
    def statement_comes_back(statement: str) -> None:
        limiter.reset()
        response = _file(client, statement=statement)
        outcomes[response.status_code] += 1
        expected = kept(statement)
        if expected is None:
            assert response.status_code == 422, response.get_json()
            assert _paths(response) == ["statement"]
            return
        assert response.status_code == 201, response.get_json()
        stored = _read_statement(ctx, response.get_json()["reference"])
        assert stored == expected
        assert unicodedata.is_normalized("NFC", stored)

    statement_comes_back()
    assert outcomes[201], outcomes  # both sides were tried
    assert outcomes[422], outcomes


def test_a_message_comes_back_as_written(client: FlaskClient) -> None:
    code = _file(client).get_json()["receipt_code"]
    outcomes: Counter[int] = Counter()

    @PROPERTY
    @example(body="ধন্যবাদ")
    @example(body=" \n ")
    @given(body=TEXTS)
    def message_comes_back(body: str) -> None:
        limiter.reset()
        sent = client.post("/api/v1/followup/messages", json={"receipt_code": code, "body": body})
        outcomes[sent.status_code] += 1
        expected = kept(body)
        if expected is None:
            assert sent.status_code == 422, sent.get_json()
            assert _paths(sent) == ["body"]
            return
        assert sent.status_code == 201, sent.get_json()
        assert sent.get_json()["messages"][-1]["body"] == expected
        followed = client.post("/api/v1/followup", json={"receipt_code": code})
        assert followed.status_code == 200
        last = followed.get_json()["messages"][-1]
        assert last == {
            "at": last["at"],
            "from_complainant": True,
            "body": expected,
            "translations": [],
        }

    message_comes_back()
    assert outcomes[201], outcomes
    assert outcomes[422], outcomes


# -- 2. any JSON body: an answer as documented, never a server error -------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXTS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _or_anything(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a sensible value, sometimes any JSON at all."""
    return st.one_of(strategy, strategy, strategy, JSON)


SIXTEEN = st.from_regex(r"[0-9]{16}", fullmatch=True)
#: Shaped like E.164; not all are numbers (no country has +999).
E164 = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)
PHONES = st.one_of(
    st.sampled_from(["+8801711000099", "+91 98765 43210", "0088017 1100 0099", "১৭১১", "12"]),
    E164,
    international_numbers(),
    TEXTS,
)
EMAILS = st.one_of(st.sampled_from(["shapla@example.org", "not-an-address"]), TEXTS)
CONTACTS = st.one_of(
    st.fixed_dictionaries({}, optional={"channel": st.sampled_from(["none", "representative"])}),
    st.fixed_dictionaries({"channel": st.sampled_from(["sms", "whatsapp"]), "phone": PHONES}),
    st.fixed_dictionaries({"channel": st.just("email"), "email": EMAILS}),
    st.fixed_dictionaries(
        {},
        optional={
            "channel": _or_anything(st.sampled_from(["sms", "email", "pigeon"])),
            "phone": _or_anything(PHONES),
            "email": _or_anything(EMAILS),
        },
    ),
)
COMPLAINTS = st.fixed_dictionaries(
    {
        "mechanism": _or_anything(st.sampled_from(["API", "api", "NOPE", ""]) | TEXTS),
        "language": _or_anything(st.sampled_from([*LANGUAGES, "xx"])),
        "statement": _or_anything(TEXTS),
    },
    optional={
        "country": _or_anything(st.sampled_from(["BD", "IN", "TR", "bd", "XXX", None])),
        "site": _or_anything(TEXTS),
        "companies": _or_anything(st.lists(TEXTS, max_size=3)),
        "themes": _or_anything(st.lists(st.sampled_from([*THEMES, "nonsense"]), max_size=3)),
        "urgent": _or_anything(st.booleans()),
        "anonymity": _or_anything(st.sampled_from(["anonymous", "confidential", "open"])),
        "complainant_kind": _or_anything(
            st.sampled_from(["affected", "representative", "union", "cso", "notifier"])
        ),
        "represents": _or_anything(TEXTS),
        "contact": _or_anything(CONTACTS),
        "identity": _or_anything(
            st.fixed_dictionaries({}, optional={"name": TEXTS, "details": TEXTS})
        ),
        "consents": _or_anything(
            st.dictionaries(
                st.sampled_from(["share_identity_with_company", "publish_summary", "sell"]),
                st.booleans(),
            )
        ),
    },
)
#: A complaint the API takes.
VALID_COMPLAINTS = st.fixed_dictionaries(
    {
        "mechanism": st.just("API"),
        "language": st.sampled_from(LANGUAGES),
        "statement": TEXTS.filter(lambda text: kept(text) is not None),
    },
    optional={
        "themes": st.lists(st.sampled_from(THEMES), max_size=3),
        "urgent": st.booleans(),
        "site": TEXTS.filter(lambda text: not refused(text)),
        "contact": st.fixed_dictionaries(
            {"channel": st.just("sms"), "phone": international_numbers()}
        ),
    },
)
#: One rule broken in an otherwise good complaint, and the path that must name it. (A wrong
#: e-mail address is left to test_a_wrong_email_address_is_refused_at_its_own_path.)
MISTAKES = [
    ({"themes": ["nonsense"]}, "themes"),
    ({"language": "xx"}, "language"),
    ({"mechanism": "NOPE"}, "mechanism"),
    ({"country": "ZZZ"}, "country"),
    ({"statement": "\u3000\n\x1c"}, "statement"),  # blank once stripped
    ({"complainant_kind": "union"}, "represents"),
    ({"identity": {"name": "Rina"}}, "identity.name"),  # anonymous, yet named
    ({"anonymity": "open", "contact": {"channel": "sms", "phone": "12"}}, "contact.phone"),
    ({"consents": {"sell_my_data": True}}, "consents.sell_my_data"),
    # anonymous, yet sharing who they are with the companies
    ({"consents": {"share_identity_with_company": True}}, "consents.share_identity_with_company"),
    ({"country": "ZZ"}, "country"),  # shaped like a country code, and none
]
NEAR_MISSES = st.builds(
    lambda good, mistake: {**good, **mistake[0]}, VALID_COMPLAINTS, st.sampled_from(MISTAKES)
)
#: Bytes that are not JSON (400), or not the JSON one expects (`null`, `[]`: 422).
RAW = st.one_of(st.binary(max_size=30), st.sampled_from([b"", b"{", b"null", b"[]", b'"x"']))


def _bodies(model_strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    """Mostly bodies shaped like the request, or any JSON, or bytes."""
    return st.one_of(
        st.tuples(st.just("json"), model_strategy),
        st.tuples(st.just("json"), model_strategy),
        st.tuples(st.just("json"), JSON),
        st.tuples(st.just("raw"), RAW),
    )


def _resolves(node: Any, parts: list[str]) -> bool:
    """`parts` is a path into the JSON sent (dots may be part of a key)."""
    if not parts:
        return True
    if isinstance(node, dict):
        return any(
            ".".join(parts[:cut]) in node and _resolves(node[".".join(parts[:cut])], parts[cut:])
            for cut in range(len(parts), 0, -1)
        )
    if isinstance(node, list) and parts[0].isdigit():
        return int(parts[0]) < len(node) and _resolves(node[int(parts[0])], parts[1:])
    return False


def _in_schema(model: type[BaseModel], parts: list[str]) -> bool:
    """`parts` is a field of the request model (e.g. a required field that is missing)."""
    field = model.model_fields.get(parts[0])
    if field is None:
        return False
    rest, annotation = parts[1:], field.annotation
    if not rest:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _in_schema(annotation, rest)
    return get_origin(annotation) is list and rest[0].isdigit() and len(rest) == 1


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def _check_answer(
    response: TestResponse,
    kind: str,
    body: Any,
    model: type[BaseModel],
    accepted: int,
    refusals: set[int],
) -> None:
    status = response.status_code
    assert status == accepted or status in refusals, (status, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    answer = response.get_json()
    if status == accepted:
        return
    errors = answer["errors"]
    assert errors
    for error in errors:
        assert set(error) == {"path", "message"}
        assert isinstance(error["path"], str)
        assert isinstance(error["message"], str)
        assert error["message"].strip()
    paths = [error["path"] for error in errors]
    if status == 400:  # only for what is not JSON at all; JSON of the wrong shape is 422
        assert kind == "raw"
        assert not _is_json(body)
        assert paths == [""]
    elif status == 404:
        assert paths == ["receipt_code"]
    elif isinstance(body, dict):
        for path in paths:
            parts = path.split(".")
            assert _resolves(body, parts) or _in_schema(model, parts), (path, body)
    else:
        assert paths == [""]  # the body itself is not an object


def _send(client: FlaskClient, url: str, kind: str, body: Any) -> TestResponse:
    """JSON as Python writes it (`NaN` included, like Flask's `json=`, which sends no body
    for `None`), or raw bytes."""
    data = body if kind == "raw" else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def test_any_complaint_body_is_filed_or_refused_with_paths(
    app: Flask, ctx: Context, client: FlaskClient
) -> None:
    outcomes: Counter[int] = Counter()

    @PROPERTY
    @example(sent=("json", {"mechanism": "API", "language": "bn", "statement": "মজুরি দেওয়া হয়নি"}))
    @example(sent=("json", {"mechanism": "API"}))
    @given(
        sent=st.one_of(
            _bodies(COMPLAINTS),
            st.tuples(st.just("valid"), VALID_COMPLAINTS),
            st.tuples(st.just("near miss"), NEAR_MISSES),
        )
    )
    def filed_or_refused(sent: tuple[str, Any]) -> None:
        kind, body = sent
        limiter.reset()
        response = _send(client, "/api/v1/complaints", kind, body)
        outcomes[response.status_code] += 1
        _check_answer(response, kind, body, ComplaintIn, 201, {400, 422})
        if kind in ("valid", "near miss"):
            assert response.status_code == {"valid": 201, "near miss": 422}[kind]
        if response.status_code == 201:
            answer = response.get_json()
            assert set(answer) == {"reference", "receipt_code"}
            assert REFERENCE.fullmatch(answer["reference"])
            assert RECEIPT.fullmatch(answer["receipt_code"])
            filed = ctx.session.scalar(select(Case.id).where(Case.reference == answer["reference"]))
            assert filed is not None

    filed_or_refused()
    assert outcomes[201], outcomes
    assert outcomes[422], outcomes


def test_a_complaint_breaking_one_rule_is_refused_at_that_field(
    ctx: Context, client: FlaskClient
) -> None:
    @PROPERTY
    @given(good=VALID_COMPLAINTS, mistake=st.sampled_from(MISTAKES))
    def refused_at_the_field(good: dict[str, Any], mistake: tuple[dict[str, Any], str]) -> None:
        changes, path = mistake
        limiter.reset()
        before = ctx.session.scalar(select(func.count(Case.id)))
        response = client.post("/api/v1/complaints", json={**good, **changes})
        assert response.status_code == 422, response.get_json()
        assert path in _paths(response)
        assert ctx.session.scalar(select(func.count(Case.id))) == before  # nothing filed

    refused_at_the_field()


@pytest.mark.parametrize(
    ("url", "model", "accepted"),
    [
        ("/api/v1/followup", FollowupIn, 200),
        ("/api/v1/followup/messages", FollowupMessageIn, 201),
    ],
)
def test_any_followup_body_is_answered_or_refused_with_paths(
    client: FlaskClient, url: str, model: type[BaseModel], accepted: int
) -> None:
    code = _file(client).get_json()["receipt_code"]
    codes = st.one_of(  # its own, as given and as written down; another; anything
        st.just(code),
        st.just(" ".join(code[i : i + 4] for i in range(0, 16, 4))),
        SIXTEEN,
    )
    bodies = {"body": TEXTS} if model is FollowupMessageIn else {}
    requests = st.one_of(
        st.fixed_dictionaries({"receipt_code": codes, **bodies}),
        st.fixed_dictionaries(
            {},
            optional={"receipt_code": _or_anything(codes | TEXTS)}
            | {name: _or_anything(strategy) for name, strategy in bodies.items()},
        ),
    )
    outcomes: Counter[int] = Counter()

    @PROPERTY
    @example(sent=("json", {"receipt_code": code, **({"body": "ধন্যবাদ"} if bodies else {})}))
    @example(sent=("json", {"receipt_code": 42}))
    @example(
        sent=("json", {"receipt_code": "0000 0000 0000 0000", **({"body": "x"} if bodies else {})})
    )
    @given(sent=_bodies(requests))
    def answered_or_refused(sent: tuple[str, Any]) -> None:
        kind, body = sent
        limiter.reset()
        response = _send(client, url, kind, body)
        outcomes[response.status_code] += 1
        _check_answer(response, kind, body, model, accepted, {400, 404, 422})
        if response.status_code == accepted:
            assert response.get_json()["reference"].startswith("API-")

    answered_or_refused()
    assert outcomes[accepted], outcomes
    assert outcomes[422], outcomes
    assert outcomes[404], outcomes


# -- 3. a receipt code opens its own case and no other ----------------------------------------

#: Decimal digits of other scripts, as a phone's keyboard may type them.
DIGITS = ["0123456789", "০১২৩৪৫৬৭৮৯", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９"]


def _typed(code: str, digits: str, separator: str) -> str:
    written = "".join(digits[int(char)] for char in code)
    return separator.join(written[i : i + 4] for i in range(0, 16, 4))


def test_a_receipt_code_opens_its_own_case_and_no_other(client: FlaskClient) -> None:
    @settings(PROPERTY, max_examples=50)  # five requests each
    @given(
        statement=TEXTS.filter(lambda text: kept(text) is not None),
        digits=st.sampled_from(DIGITS),
        separator=st.sampled_from(["", " ", "-", " - "]),
        other=SIXTEEN,
        position=st.integers(0, 15),
        shift=st.integers(1, 9),
    )
    def opens_its_own(
        statement: str, digits: str, separator: str, other: str, position: int, shift: int
    ) -> None:
        limiter.reset()
        filed = _file(client, statement=statement)
        assert filed.status_code == 201
        reference, code = filed.get_json()["reference"], filed.get_json()["receipt_code"]

        def follow(typed: str) -> TestResponse:
            return client.post("/api/v1/followup", json={"receipt_code": typed})

        for typed in (code, _typed(code, digits, separator)):
            opened = follow(typed)
            assert opened.status_code == 200, typed
            assert opened.get_json()["reference"] == reference
        near = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
        for wrong in (near, other):
            if wrong != code:  # `other` is drawn at random: 1 in 10^16 it is the code
                refused = follow(wrong)
                assert refused.status_code == 404, wrong
                assert _paths(refused) == ["receipt_code"]

    opens_its_own()


# -- what the properties found ----------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["A\x00PI", "API\x00", "\x00"])
def test_a_nul_in_the_mechanism_is_refused(
    ctx: Context, client: FlaskClient, mechanism: str
) -> None:
    """PostgreSQL text cannot hold U+0000: the code's shape is checked before any query
    (psycopg's DataError was a 500 there)."""
    before = ctx.session.scalar(select(func.count(Case.id)))
    response = _file(client, mechanism=mechanism)
    assert response.status_code == 422
    assert _paths(response) == ["mechanism"]
    assert ctx.session.scalar(select(func.count(Case.id))) == before


def test_deeply_nested_json_is_refused(client: FlaskClient) -> None:
    """json's RecursionError is not a ValueError: it went through `get_json` as a 500."""
    deep = "[" * 5000 + "]" * 5000
    for url in ("/api/v1/complaints", "/api/v1/followup", "/api/v1/followup/messages"):
        response = client.post(url, data=deep, content_type="application/json")
        assert response.status_code == 400
        assert response.mimetype == "application/json"
        assert _paths(response) == [""]


def test_a_wrong_email_address_is_refused_at_its_own_path(client: FlaskClient) -> None:
    response = _file(
        client,
        anonymity="confidential",
        contact={"channel": "email", "email": "not-an-address"},
    )
    assert response.status_code == 422
    assert _paths(response) == ["contact.email"]


@pytest.mark.parametrize("body", [b"null", b"[]", b'"x"', b"3", b"true"])
@pytest.mark.parametrize("url", ["/api/v1/complaints", "/api/v1/followup"])
def test_json_of_the_wrong_shape_is_refused_at_the_root(
    client: FlaskClient, url: str, body: bytes
) -> None:
    """`null` is valid JSON, of the wrong shape: 422 like `[]`, not 400 "not JSON"."""
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 422
    assert _paths(response) == [""]


@pytest.mark.parametrize(
    ("contact", "path"),
    [
        ({"channel": "email", "email": "not-an-address"}, "contact.email"),
        ({"channel": "email"}, "contact.email"),
        ({"channel": "sms", "phone": "12"}, "contact.phone"),
        ({"channel": "whatsapp", "phone": "12", "email": "rina@example.org"}, "contact.phone"),
    ],
)
def test_a_wrong_contact_address_is_refused_where_it_was_given(
    client: FlaskClient, contact: dict[str, str], path: str
) -> None:
    response = _file(client, anonymity="confidential", contact=contact)
    assert response.status_code == 422
    assert _paths(response) == [path]
