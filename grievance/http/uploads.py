"""Files on the anonymous surface's forms: read, checked, held while the form comes back
with an error (so nothing attached is lost), and attached once the form is accepted."""

from __future__ import annotations

from dataclasses import dataclass, field

from babel.units import format_unit
from flask import request
from flask_babel import get_locale, gettext, ngettext

from grievance.services.attachments import (
    MAX_BYTES,
    MAX_FILES,
    CleanFile,
    UploadRefused,
    check_file,
    held,
    hold,
)
from grievance.services.context import Context
from grievance.services.stripping import MAX_PIXELS

#: The field of the form that carries new files, and the checkboxes of the held files
#: (a file the person unticks is let go).
FILES_FIELD, HELD_FIELD = "files", "held"
#: The types a phone's file picker is asked to offer; the server checks the content.
ACCEPT = "image/jpeg,image/png,image/webp,application/pdf,audio/*,.m4a,.amr,.ogg,.mp3,.wav"


def size_label(size: int) -> str:
    """A file size in the reader's language ("2.4 MB", "২.৪ MB", "٢٫٤ ميغابايت")."""
    locale = get_locale() or "en"
    if size >= 1024 * 1024:
        megabytes = round(size / (1024 * 1024), 1)
        return format_unit(megabytes, "digital-megabyte", length="short", locale=locale)
    kilobytes = max(1, round(size / 1024))
    return format_unit(kilobytes, "digital-kilobyte", length="short", locale=locale)


def pixels_label(pixels: int) -> str:
    """A picture's size in the reader's language ("20 MP", "20 Mpx", "20 எம்.பி")."""
    megapixels = round(pixels / 1_000_000, 1)
    locale = get_locale() or "en"
    return format_unit(megapixels, "graphics-megapixel", length="short", locale=locale)


def refusal_message(refused: UploadRefused) -> str:
    name = refused.filename.replace("\\", "/").rsplit("/", 1)[-1][:120]
    if refused.reason == "empty":
        return str(gettext("%(name)s is empty.", name=name))
    if refused.reason == "too_big":
        return str(
            gettext(
                "%(name)s is too large: each file may be at most %(limit)s.",
                name=name,
                limit=size_label(MAX_BYTES),
            )
        )
    if refused.reason == "too_many_pixels":
        return str(
            gettext(
                "%(name)s is too large a photo: each photo may have at most %(limit)s.",
                name=name,
                limit=pixels_label(MAX_PIXELS),
            )
        )
    if refused.reason == "type":
        return str(
            gettext(
                "%(name)s cannot be added. Send photos (JPEG, PNG or WebP), PDF documents "
                "or voice recordings (MP3, M4A, OGG, AMR or WAV).",
                name=name,
            )
        )
    if refused.reason == "too_many":
        return str(
            ngettext(
                "You can add at most %(num)d file.", "You can add at most %(num)d files.", MAX_FILES
            )
        )
    return str(gettext("%(name)s could not be read. Is it a complete file?", name=name))


@dataclass
class HeldFile:
    token: str
    file: CleanFile

    @property
    def size(self) -> str:
        return size_label(self.file.size)


@dataclass
class Uploads:
    """The files of one form submission: those held from before, the new ones (now held
    too), and what was refused."""

    files: list[HeldFile] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def clean_files(self) -> list[CleanFile]:
        return [held_file.file for held_file in self.files]

    @property
    def tokens(self) -> list[str]:
        return [held_file.token for held_file in self.files]


def collect(ctx: Context) -> Uploads:
    """Read the files of the current request: keep the held ones still ticked and valid,
    check the new ones and hold those that pass."""
    uploads = Uploads()
    seen = set()
    for token in request.form.getlist(HELD_FIELD):
        file = held(ctx, token)
        if file is not None and token not in seen:
            seen.add(token)
            uploads.files.append(HeldFile(token, file))
    for storage in request.files.getlist(FILES_FIELD):
        if not storage.filename:
            continue  # the empty part a browser sends when nothing was chosen
        if len(uploads.files) >= MAX_FILES:
            uploads.errors.append(refusal_message(UploadRefused("too_many")))
            break
        data = storage.stream.read(MAX_BYTES + 1)
        try:
            file = check_file(storage.filename, data)
        except UploadRefused as refused:
            uploads.errors.append(refusal_message(refused))
            continue
        uploads.files.append(HeldFile(hold(ctx, file), file))
    return uploads
