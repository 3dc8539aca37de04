"""Addresses of the intake surface that the staff surface gives to people (a receipt read
out over the phone says where to follow the complaint). The staff app cannot build the
intake app's URLs, since it may run on a host of its own: the intake blueprints take
their prefixes from here, and the staff pages join them to `PUBLIC_BASE_URL`."""

from __future__ import annotations

from grievance.http.context import current_settings

COMPLAINT = "/complaint"
FOLLOW_UP = "/follow-up"


def public_url(path: str) -> str:
    """`path` of the intake surface, as the public reaches it."""
    return current_settings().public_base_url.rstrip("/") + path
