"""Forms over https (issue #12, item 1): Flask-WTF's origin check demands a same-origin
Referer on every https POST, so the pages must let the browser send one; a POST from
another site, or one without any Referer, is still refused."""

from __future__ import annotations

import re

from tests.clients import HttpsClient, referrer_for

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _follow_up_form(client) -> str:
    page = client.get("/follow-up").get_data(as_text=True)
    match = TOKEN.search(page) or re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the follow-up page"
    return match.group(1)


def test_the_pages_let_a_browser_send_its_referer_to_this_site_only(app, session):
    response = app.test_client().get("/complaint", base_url="https://localhost")
    policy = response.headers["Referrer-Policy"]
    assert referrer_for(policy, "https://localhost/complaint") == "https://localhost/complaint"
    assert policy == "same-origin"  # and to no other site


def test_an_https_post_with_this_sites_referer_passes_the_origin_check(app, session):
    client = HttpsClient(app, app.response_class, use_cookies=True)
    token = _follow_up_form(client)
    response = client.post("/follow-up", data={"csrf_token": token, "code": "1234"})
    assert response.status_code != 400, "refused as an expired form"


def test_an_https_post_from_another_site_or_without_referer_is_refused(app, session):
    for referer in ("https://evil.example/follow-up", None):
        client = app.test_client()
        page = client.get("/follow-up", base_url="https://localhost").get_data(as_text=True)
        token = TOKEN.search(page) or re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        headers = {"Referer": referer} if referer else {}
        response = client.post(
            "/follow-up",
            data={"csrf_token": token.group(1), "code": "1234"},
            base_url="https://localhost",
            headers=headers,
        )
        assert response.status_code == 400, referer
