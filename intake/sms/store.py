"""A `dialogue.Conversation` as bytes and back (JSON), to be sealed in its row."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from intake.sms.dialogue import Conversation, HeldPiece, Stage


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def dump(state: Conversation) -> bytes:
    data: dict[str, Any] = {
        "v": 1,
        "stage": state.stage.value,
        "language": state.language,
        "menu": list(state.menu),
        "resume": state.resume.value if state.resume else None,
        "anonymity": state.anonymity,
        "consents": dict(state.consents),
        "statement": list(state.statement),
        "location": state.location,
        "companies": state.companies,
        "case_reference": state.case_reference,
        "waiting": list(state.waiting),
        "pieces": [
            [piece.reference, piece.part, piece.total, piece.text, _time(piece.arrived)]
            for piece in state.pieces
        ],
        "last_activity": _time(state.last_activity),
        "opted_out": state.opted_out,
        "question": state.question,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def load(handle: str, blob: bytes) -> Conversation:
    data = json.loads(blob)
    pieces = []
    for reference, part, total, text, arrived in data["pieces"]:
        moment = _parse_time(arrived)
        assert moment is not None
        pieces.append(HeldPiece(reference, part, total, text, moment))
    return Conversation(
        handle=handle,
        stage=Stage(data["stage"]),
        language=data["language"],
        menu=tuple(data["menu"]),
        resume=Stage(data["resume"]) if data["resume"] else None,
        anonymity=data["anonymity"],
        consents=dict(data["consents"]),
        statement=tuple(data["statement"]),
        location=data["location"],
        companies=data["companies"],
        case_reference=data["case_reference"],
        waiting=tuple(data["waiting"]),
        pieces=tuple(pieces),
        last_activity=_parse_time(data["last_activity"]),
        opted_out=bool(data["opted_out"]),
        question=data.get("question"),
    )
