"""A Babel extractor for policy files: every `label` and `definition` in a policy TOML
becomes a string to translate, so a secretariat's new theme is translated like the
rest (babel.cfg maps `grievance/policies/*.toml` here)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

_ENTRY = re.compile(r'^\s*(label|definition)\s*=\s*"((?:[^"\\]|\\.)*)"')


def extract_policy(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str, list[str]]]:
    for number, raw in enumerate(fileobj, start=1):
        match = _ENTRY.match(raw.decode("utf-8"))
        if match:
            text = json.loads(f'"{match.group(2)}"')  # TOML basic strings escape like JSON
            yield number, "gettext", text, [f"policy {match.group(1)}"]
