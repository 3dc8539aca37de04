"""The request class of the app: uploads kept in memory, and form bodies read as UTF-8 or
refused."""

from __future__ import annotations

import codecs
import io
from typing import IO, Any
from urllib.parse import parse_qsl

from flask import Request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser, MultiPartParser


class UnreadableForm(BadRequest):
    """A form whose text is not UTF-8: a percent-escape of bytes that are no UTF-8
    (`%FF%FE`), or such bytes in a multipart field. Werkzeug keeps the first literally
    and replaces the second with U+FFFD, so the text kept would not be the text sent; the
    JSON API refuses the same bytes. Our error page says what happened
    (`grievance.http.errors`)."""

    description = "The form's text is not valid UTF-8."


#: A codec that decodes like UTF-8 (or ASCII) but raises whatever error handling is asked
#: for: Werkzeug decodes each multipart field with errors="replace".
_STRICT = {"grievance_strict_utf_8": "utf-8", "grievance_strict_ascii": "ascii"}


def _strict_codec(name: str) -> codecs.CodecInfo | None:
    encoding = _STRICT.get(name)
    if encoding is None:
        return None
    base = codecs.lookup(encoding)

    def decode(data: Any, errors: str = "strict") -> tuple[str, int]:
        return base.decode(data, "strict")

    return codecs.CodecInfo(base.encode, decode, name=name)


codecs.register(_strict_codec)


class _StrictMultiPartParser(MultiPartParser):
    def get_part_charset(self, headers: Headers) -> str:
        charset = super().get_part_charset(headers)
        if charset == "utf-8":
            return "grievance_strict_utf_8"
        if charset in ("ascii", "us-ascii"):
            return "grievance_strict_ascii"
        return charset  # ISO-8859-1 reads any byte


class StrictFormDataParser(FormDataParser):
    """Werkzeug's parser, but a text that is not UTF-8 raises `UnreadableForm` instead of
    being kept altered."""

    def _parse_urlencoded(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], Any, Any]:
        try:
            text = stream.read().decode("utf-8")
            items = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise UnreadableForm() from None
        return stream, self.cls(items), self.cls()

    def _parse_multipart(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[IO[bytes], Any, Any]:
        parser = _StrictMultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        try:
            form, files = parser.parse(stream, boundary, content_length)
        except UnicodeDecodeError:
            raise UnreadableForm() from None
        return stream, form, files


class InMemoryRequest(Request):
    """Uploaded files stay in memory until they are checked, stripped and sealed: a
    complainant's photo never touches the disk in clear (DESIGN invariant 1).
    `MAX_CONTENT_LENGTH` bounds the memory a request may take.

    A form body is read as UTF-8, strictly: what is not UTF-8 is refused
    (`UnreadableForm`), never kept altered."""

    form_data_parser_class = StrictFormDataParser

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except UnreadableForm:
            # Nothing of it is read: whatever asks for the form afterwards (an error
            # handler) finds it empty.
            empty = self.parameter_storage_class()
            self.__dict__.update(form=empty, files=empty)
            raise
