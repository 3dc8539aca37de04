"""The demo's content: `data.toml` beside this file (fictional companies and people), the
demo password and the logins `make run` prints."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("data.toml")
#: Printed by `make run`; for the demo data only.
DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed for the demo accounts only


def read_data(path: Path = DATA_FILE) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def demo_logins(data: dict[str, Any]) -> list[tuple[str, str]]:
    staff = [(entry["role"], entry["email"]) for entry in data["staff"]]
    reviewers = [("reviewer", entry["email"]) for entry in data["reviewer"]]
    return sorted(staff) + reviewers
