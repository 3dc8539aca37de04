"""Files a complainant gives: photos, documents and voice recordings (DESIGN invariant 1).

A file is checked by its content, never by the name or type the browser claims; its
metadata is removed (stripping.py: pictures are written again from their pixels alone, so
no GPS position, camera serial number, owner's name or thumbnail survives; documents and
recordings lose their authors, titles and tags); the name and the content are sealed
under the case's data key. While a form comes back with an error, the checked files wait
as pending uploads sealed under a key only the form holds.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select

from grievance.models import Attachment, Case, Message, PendingUpload, Role
from grievance.services import caselog, stripping
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed

#: The largest file accepted, after the browser's encoding is removed.
MAX_BYTES = 10 * 1024 * 1024
#: Files per complaint or per message.
MAX_FILES = 5
#: How long a pending upload waits for its form to come back.
PENDING_HOURS = 24

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
PDF = "application/pdf"
MP3, M4A, OGG, AMR, WAV = "audio/mpeg", "audio/mp4", "audio/ogg", "audio/amr", "audio/wav"

#: Types accepted, and the extension a downloaded file gets.
EXTENSIONS = {
    JPEG: "jpg",
    PNG: "png",
    WEBP: "webp",
    PDF: "pdf",
    MP3: "mp3",
    M4A: "m4a",
    OGG: "ogg",
    AMR: "amr",
    WAV: "wav",
}
#: How the metadata of each type is removed (stripping.py); AMR files have none.
_STRIPPERS: dict[str, Callable[[bytes], bytes]] = {
    JPEG: partial(stripping.strip_picture, pillow_format="JPEG"),
    PNG: partial(stripping.strip_picture, pillow_format="PNG"),
    WEBP: partial(stripping.strip_picture, pillow_format="WEBP"),
    PDF: stripping.strip_pdf,
    MP3: stripping.strip_mp3,
    M4A: stripping.strip_m4a,
    OGG: stripping.strip_ogg,
    WAV: stripping.strip_wav,
}
#: ISO media brands of audio-only files (voice recorders); video brands are refused.
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"F4A "}


class UploadRefused(Exception):
    """A file that cannot be kept. `reason` is one of: empty, too_big, too_many, type,
    unreadable, too_many_pixels (a picture over `stripping.MAX_PIXELS`); channels turn it
    into a translated message."""

    def __init__(self, reason: str, filename: str = "") -> None:
        self.reason, self.filename = reason, filename
        super().__init__(reason)


@dataclass(frozen=True)
class CleanFile:
    """A file that passed the checks, its metadata already stripped."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def sniff(data: bytes) -> str | None:
    """The type of a file by its first bytes; None if it is not one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"OggS"):
        return OGG
    if data.startswith(b"#!AMR"):
        return AMR
    if data[4:8] == b"ftyp" and data[8:12] in _AUDIO_BRANDS:
        return M4A
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return MP3
    return None


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str, content_type: str) -> str:
    """The person's own name for the file (it may say something), made safe to show and
    to download: no path, no control characters, NFC, the right extension."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    stem = _UNSAFE_NAME.sub("", base.rsplit(".", 1)[0] if "." in base else base).strip(" .")
    return f"{stem[:120] or 'file'}.{EXTENSIONS[content_type]}"


def check_file(filename: str, data: bytes) -> CleanFile:
    """Accept one file or refuse it with a reason; it comes back without metadata."""
    if not data:
        raise UploadRefused("empty", filename)
    if len(data) > MAX_BYTES:
        raise UploadRefused("too_big", filename)
    content_type = sniff(data)
    if content_type is None:
        raise UploadRefused("type", filename)
    strip = _STRIPPERS.get(content_type)
    if strip is not None:
        try:
            data = strip(data)
        except stripping.NotStripped as refused:
            raise UploadRefused(refused.reason, filename) from None
    return CleanFile(clean_filename(filename, content_type), content_type, data)


# -- pending uploads -------------------------------------------------------------------
def _pending_context(upload_id: str, field: str) -> bytes:
    return f"grievance/pending/v1|upload={upload_id}|field={field}".encode()


def hold(ctx: Context, file: CleanFile) -> str:
    """Keep a checked file while its form comes back; the token the form must return.

    The token carries the only copy of the key: a pending upload opens for the browser
    that holds the form, not for someone with the database.
    """
    upload_id = os.urandom(16).hex()
    key = AESGCM.generate_key(bit_length=256)
    aead = AESGCM(key)
    name_nonce, data_nonce = os.urandom(12), os.urandom(12)
    ctx.session.add(
        PendingUpload(
            id=upload_id,
            filename_enc=name_nonce
            + aead.encrypt(name_nonce, file.filename.encode(), _pending_context(upload_id, "name")),
            content_type=file.content_type,
            size=file.size,
            content_enc=data_nonce
            + aead.encrypt(data_nonce, file.data, _pending_context(upload_id, "content")),
            created_at=ctx.now(),
        )
    )
    ctx.session.flush()
    return f"{upload_id}.{base64.urlsafe_b64encode(key).decode().rstrip('=')}"


def _open_token(token: str) -> tuple[str, bytes] | None:
    upload_id, _, encoded = token.partition(".")
    if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
        return None
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    return (upload_id, key) if len(key) == 32 else None


def _unseal(aead: AESGCM, blob: bytes, context: bytes) -> bytes:
    return aead.decrypt(blob[:12], blob[12:], context)


def held(ctx: Context, token: str) -> CleanFile | None:
    """The file a token stands for; None if it expired, was used, or the token is wrong."""
    opened = _open_token(token)
    if opened is None:
        return None
    upload_id, key = opened
    row = ctx.session.get(PendingUpload, upload_id)
    if row is None or row.created_at < ctx.now() - timedelta(hours=PENDING_HOURS):
        return None
    aead = AESGCM(key)
    try:
        name = _unseal(aead, row.filename_enc, _pending_context(upload_id, "name"))
        data = _unseal(aead, row.content_enc, _pending_context(upload_id, "content"))
    except InvalidTag:
        return None
    return CleanFile(name.decode(), row.content_type, data)


def release(ctx: Context, tokens: Iterable[str]) -> None:
    """Delete the pending uploads of these tokens (their files were attached)."""
    ids = [opened[0] for token in tokens if (opened := _open_token(token)) is not None]
    if ids:
        ctx.session.execute(delete(PendingUpload).where(PendingUpload.id.in_(ids)))


def purge_pending(ctx: Context) -> int:
    """A job: forget the pending uploads whose forms never came back."""
    cutoff = ctx.now() - timedelta(hours=PENDING_HOURS)
    result = ctx.session.execute(delete(PendingUpload).where(PendingUpload.created_at < cutoff))
    ctx.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


# -- attachments of a case -------------------------------------------------------------
@atomic
def attach(
    ctx: Context,
    case: Case,
    actor: Actor,
    files: Sequence[CleanFile],
    message: Message | None = None,
) -> list[Attachment]:
    """Seal checked files under the case's data key and log that they were added."""
    if not files:
        return []
    if len(files) > MAX_FILES:
        raise UploadRefused("too_many")
    case = ctx.lock_case(case)
    require_part(ctx, actor, case)
    if actor.role not in (Role.COMPLAINANT, Role.REVIEWER, Role.SECRETARIAT, Role.SYSTEM):
        raise NotAllowed(f"{actor.role} does not add files to a complaint")
    now = ctx.now()
    added = []
    for file in files:
        attachment = Attachment(
            case_id=case.id,
            message_id=message.id if message else None,
            filename_enc=b"",
            content_type=file.content_type,
            size=file.size,
            content_enc=b"",
            uploaded_by_role=actor.role.value,
            created_at=now,
        )
        ctx.session.add(attachment)
        ctx.session.flush()
        attachment.filename_enc = ctx.vault.seal(
            case.id, f"attachment.{attachment.id}.name", file.filename
        )
        attachment.content_enc = ctx.vault.seal_bytes(
            case.id, f"attachment.{attachment.id}.content", file.data
        )
        added.append(attachment)
    caselog.append(
        ctx.session,
        case,
        "files_added",
        actor,
        now,
        {
            "attachment_ids": [a.id for a in added],
            "content_types": [a.content_type for a in added],
            **({"message_id": message.id} if message else {}),
        },
    )
    return added


def attachments_of(ctx: Context, case: Case) -> list[Attachment]:
    return list(
        ctx.session.scalars(
            select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)
        )
    )


def filename_of(ctx: Context, attachment: Attachment) -> str:
    return ctx.vault.open(
        attachment.case_id, f"attachment.{attachment.id}.name", attachment.filename_enc
    )


def read_attachment(ctx: Context, actor: Actor, attachment: Attachment) -> CleanFile:
    """The file, for someone with a part in its case; company staff never read them
    (a complainant's photos and recordings may show who they are)."""
    case = ctx.session.get_one(Case, attachment.case_id)
    require_part(ctx, actor, case)
    if actor.role not in (Role.COMPLAINANT, Role.REVIEWER, Role.SECRETARIAT):
        raise NotAllowed(f"{actor.role} does not read a complainant's files")
    if attachment.obligation_id is not None and actor.role is Role.COMPLAINANT:
        raise NotAllowed("a company's evidence is the company's and the mechanism's")
    data = ctx.vault.open_bytes(
        case.id, f"attachment.{attachment.id}.content", attachment.content_enc
    )
    return CleanFile(filename_of(ctx, attachment), attachment.content_type, data)
