"""The request class of the app."""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class InMemoryRequest(Request):
    """Uploaded files stay in memory until they are checked, stripped and sealed: a
    complainant's photo never touches the disk in clear (DESIGN invariant 1).
    `MAX_CONTENT_LENGTH` bounds the memory a request may take."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()
