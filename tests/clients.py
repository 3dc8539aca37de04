"""A test client that sends what a browser sends.

Flask's test client sends no `Referer`, so a check that depends on one (Flask-WTF's
`WTF_CSRF_SSL_STRICT` demands a same-origin Referer on every https POST) passes in tests
and fails in every browser. `BrowserLikeClient` keeps the address of the last page it
got and, on the next request, sends the Referer that a browser would send from that page
under the `Referrer-Policy` the page came with (the Fetch and Referrer Policy specs, for
same-origin requests: what the app's own forms and links make).
"""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from tests.conftest import RequestIsolatingClient

#: Policies under which a same-origin request carries the full address of the page.
FULL_URL = frozenset(
    {
        "",  # no policy: the default, strict-origin-when-cross-origin
        "unsafe-url",
        "same-origin",
        "no-referrer-when-downgrade",
        "origin-when-cross-origin",
        "strict-origin-when-cross-origin",
    }
)
#: Policies under which it carries only the origin.
ORIGIN_ONLY = frozenset({"origin", "strict-origin"})


def referrer_for(policy: str, page_url: str) -> str | None:
    """The Referer of a same-origin request made from `page_url` under `policy` (the last
    value of a comma-separated header wins, as browsers read it)."""
    chosen = policy.split(",")[-1].strip().lower() if policy else ""
    if chosen in FULL_URL:
        return page_url.split("#", 1)[0]
    if chosen in ORIGIN_ONLY:
        scheme, rest = page_url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}/"
    return None  # no-referrer, or a value a browser ignores (treated as none here)


class BrowserLikeClient(RequestIsolatingClient):
    """Requests go to `scheme://localhost`; each carries the Referer the last page allows."""

    scheme = "http"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page: tuple[str, str] | None = None  # (its address, its Referrer-Policy)

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("base_url", f"{self.scheme}://localhost")
        headers = dict(kwargs.pop("headers", None) or {})
        if self._page is not None and "Referer" not in headers:
            referrer = referrer_for(self._page[1], self._page[0])
            if referrer is not None:
                headers["Referer"] = referrer
        response: TestResponse = super().open(*args, headers=headers, **kwargs)
        if response.mimetype == "text/html" and response.request is not None:
            policy = response.headers.get("Referrer-Policy", "")
            self._page = (response.request.url, policy)
        return response


class HttpsClient(BrowserLikeClient):
    """The same, over https, as production serves it."""

    scheme = "https"
