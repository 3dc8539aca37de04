"""What a page costs on a cheap phone plan, and whom it tells: every page of the anonymous
surface, with everything the browser fetches for it, weighs under 60 KB; the browser
asks nothing of any other host than the mechanism's own; every page is sent with a
strict Content-Security-Policy and breaks none of it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response

from tests.browser.conftest import STATES, LiveServer, NewContext, Traffic, visit, without_cache

pytestmark = pytest.mark.browser

BUDGET = 60 * 1024


@pytest.mark.parametrize("lang", ["en", "ar", "my"])
def test_page_weight_is_under_60_kb(
    new_context: NewContext, live_server: LiveServer, lang: str
) -> None:
    page = new_context().new_page()
    without_cache(page)
    traffic = Traffic(page)
    heavy = {}
    for state in STATES:
        visit(page, live_server, state, lang, before_last=traffic.start)
        page.wait_for_load_state("load")
        sizes = traffic.body_sizes()
        kinds = {response.request.resource_type for response in traffic.responses}
        assert {"document", "stylesheet"} <= kinds, f"{state}: not all measured: {sizes}"
        if sum(sizes.values()) >= BUDGET:
            heavy[state] = sizes
    assert not heavy, f"pages of {BUDGET} bytes or more in {lang}: {heavy}"


def test_the_weight_counts_every_subresource(page: Page, live_server: LiveServer) -> None:
    """The stylesheet is fetched, and counted, even when it was fetched before."""
    without_cache(page)
    traffic = Traffic(page)
    visit(page, live_server, "index", "en")
    visit(page, live_server, "follow-up", "en", before_last=traffic.start)
    page.wait_for_load_state("load")
    stylesheet = [key for key in traffic.body_sizes() if key.endswith("/static/site.css")]
    assert stylesheet
    assert traffic.body_sizes()[stylesheet[0]] > 1000


def _strict(policy: str) -> list[str]:
    """What is not strict in a Content-Security-Policy header."""
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    problems = []
    if directives.get("default-src") != ["'none'"]:
        problems.append(f"default-src is {directives.get('default-src')}, not 'none'")
    for name in ("frame-ancestors", "base-uri"):
        if directives.get(name) != ["'none'"]:
            problems.append(f"{name} is {directives.get(name)}, not 'none'")
    if directives.get("form-action") not in (["'self'"], ["'none'"]):
        problems.append(f"form-action is {directives.get('form-action')}")
    for name, sources in directives.items():
        for source in sources:
            if source not in ("'none'", "'self'"):
                problems.append(f"{name} allows {source}")
    return problems


def test_no_third_party_requests_and_a_strict_csp_on_every_page(
    new_context: NewContext, live_server: LiveServer
) -> None:
    origin = urlsplit(live_server.url)
    documents: list[Response] = []
    everything: list[str] = []
    console: list[str] = []
    for lang in ("en", "ar"):
        page = new_context().new_page()
        traffic = Traffic(page)
        for state in STATES:
            traffic.start()
            visit(page, live_server, state, lang)
            page.wait_for_load_state("load")
            everything += traffic.requests
            documents += [r for r in traffic.responses if r.request.resource_type == "document"]
            console += [
                f"{state} in {lang}: {text}"
                for text in traffic.console_errors
                if "Content Security Policy" in text or text.startswith("Refused")
            ]
    assert everything
    foreign = [
        url
        for url in everything
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert not foreign, f"requests to other hosts: {foreign}"
    # a page that tried to break its own policy (an inline style, a script) says so here
    assert not console, "\n".join(console)
    assert len(documents) >= 2 * len(STATES)
    for response in documents:
        policy = response.headers.get("content-security-policy")
        assert policy, f"no Content-Security-Policy on {response.url}"
        assert not _strict(policy), f"{response.url}: {_strict(policy)}"


@pytest.mark.parametrize(
    ("policy", "strict"),
    [
        (
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'",
            True,
        ),
        ("default-src 'self'; frame-ancestors 'none'; base-uri 'none'", False),
        (
            "default-src 'none'; style-src 'self' https://fonts.googleapis.com; "
            "frame-ancestors 'none'; base-uri 'none'",
            False,
        ),
        (
            "default-src 'none'; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'; base-uri 'none'",
            False,
        ),
        ("default-src 'none'; base-uri 'none'", False),
    ],
)
def test_the_policy_check_tells_strict_from_lax(policy: str, strict: bool) -> None:
    assert (not _strict(policy)) is strict
