"""Reviewers' translations of a case's words: the complainant's statement, one message,
or the reasons a decision gave the complainant (for them, in their language).

The original is never changed; a translation is kept beside it, sealed under the case's
data key like the original (so retention erases it with the identities), with who made
it, into which language and when. Each is a `translation_added` event, for reviewers.
"""

from __future__ import annotations

from sqlalchemy import select

from grievance.models import Case, CaseEvent, Message, Role, Translation, Visibility
from grievance.services import caselog
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed, ServiceError
from grievance.services.filing import STATEMENT_MAX
from grievance.services.texts import normalise, text_problem

TRANSLATION_MAX = STATEMENT_MAX


def _field(translation: Translation) -> str:
    return f"translation.{translation.id}"


@atomic
def add_translation(
    ctx: Context,
    case: Case,
    actor: Actor,
    language: str,
    text: str,
    message: Message | None = None,
    reasons_of: CaseEvent | None = None,
) -> Translation:
    """An assigned reviewer attaches a translation of the statement (no `message`, no
    `reasons_of`), of one of the case's messages, or of the reasons one of its events gave
    the complainant (`reasons_of`: an event whose reasons they read, `reasons_given`).
    `language` is a language the case's policy knows."""
    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers translate a complainant's words")
    require_part(ctx, actor, case)
    if message is not None and message.case_id != case.id:
        raise NotAllowed("not a message of this case")
    if reasons_of is not None and (message is not None or not reasons_given(case, reasons_of)):
        raise NotAllowed("not an event of this case whose reasons the complainant reads")
    if case.identities_erased_at is not None:
        raise ServiceError("the case's words were erased at the end of their keeping")
    errors: dict[str, Code] = {}
    if ctx.case_policy(case).language_named(language) is None:
        errors["language"] = Code.UNKNOWN
    cleaned = normalise(text)
    if text_problem(text) is not None:
        errors["text"] = Code.INVALID_CHARACTER
    elif not cleaned:
        errors["text"] = Code.REQUIRED
    elif len(cleaned) > TRANSLATION_MAX:
        errors["text"] = Code.TOO_LONG
    if errors:
        raise InvalidInput(errors, {"text": {"max": TRANSLATION_MAX}})
    assert actor.user_id is not None
    now = ctx.now()
    translation = Translation(
        case_id=case.id,
        message_id=message.id if message is not None else None,
        event_seq=reasons_of.seq if reasons_of is not None else None,
        language=language,
        text_enc=b"",
        translator_id=actor.user_id,
        created_at=now,
    )
    ctx.session.add(translation)
    ctx.session.flush()
    translation.text_enc = ctx.vault.seal(case.id, _field(translation), cleaned)
    payload: dict[str, object] = {"translation_id": translation.id, "language": language}
    if message is not None:
        payload["message_id"] = message.id
    if reasons_of is not None:
        payload["event_seq"] = reasons_of.seq
    caselog.append(ctx.session, case, "translation_added", actor, now, payload)
    return translation


def translations_of(ctx: Context, case: Case) -> list[Translation]:
    """Every translation of the case's words, oldest first."""
    return list(
        ctx.session.scalars(
            select(Translation).where(Translation.case_id == case.id).order_by(Translation.id)
        )
    )


def read_translation(ctx: Context, translation: Translation) -> str:
    return ctx.vault.open(translation.case_id, _field(translation), translation.text_enc)


def reasons_given(case: Case, event: CaseEvent) -> bool:
    """Whether `event` is one of `case`'s with reasons the complainant reads."""
    return (
        event.case_id == case.id
        and bool(event.payload.get("reason"))
        and event.visibility <= Visibility.PARTIES
        and caselog.field_visibility(event.kind, "reason") <= Visibility.PARTIES
    )
