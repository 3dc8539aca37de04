"""The log's format: lines of text for a terminal, or JSON lines (`LOG_FORMAT=json`) for
a log collector. Either way a record carries only what the code logged: the services
and channels log ids and codes, never a name, a phone number, a statement or a client
address (DESIGN invariant 1; ASVS 7.1.1–7.1.2), and database errors hide their
parameters (`hide_parameters`)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the
    exception's type and traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """Set up the root logger once per process (a second app in the same process, as
    the combined app builds, changes nothing)."""
    root = logging.getLogger()
    if any(getattr(handler, "_grievance", False) for handler in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler._grievance = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
