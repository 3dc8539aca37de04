"""Rate limits behind a reverse proxy (issue #12, item 2): each client its own budget, an
address it writes itself ignored, IPv6 counted by /64, one receipt-code budget across the
three places a code is tried, and a cap for every client together."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from grievance import MIGRATIONS, create_app
from grievance.clock import FixedClock
from grievance.config import ConfigError, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import LIMITERS, client_network, db
from tests.conftest import START

WRONG = "9" * 16
PROXY = "10.0.0.1"
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _reset() -> None:
    for limiter in LIMITERS:
        limiter.reset()


def _app(settings: Settings, tmp_path: Path, **changes: object) -> Iterator[Flask]:
    own = replace(
        settings,
        database_url=f"sqlite:///{tmp_path / 'limits.sqlite3'}",
        instance_path=tmp_path,
        **changes,  # type: ignore[arg-type]
    )
    app = create_app(own, clock=FixedClock(START), keyring=Keyring.generate())
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.session.remove()
    _reset()
    yield app
    _reset()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def proxied(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    """The app behind one reverse proxy (TRUSTED_PROXY_HOPS=1)."""
    yield from _app(settings, tmp_path, trusted_proxy_hops=1)


@pytest.fixture
def direct(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    """The app with no proxy configured (the default)."""
    yield from _app(settings, tmp_path)


def _api_try(client, path: str = "/api/v1/followup", **environ: str) -> int:
    body = {"receipt_code": WRONG}
    if path.endswith("/messages"):
        body["body"] = "hello"
    return client.post(path, json=body, environ_base=environ).status_code


def _via_proxy(client_address: str, written: str | None = None) -> dict[str, str]:
    """What the app receives through the proxy: the proxy's own address, and the
    client's appended to whatever X-Forwarded-For the client wrote itself."""
    forwarded = f"{written}, {client_address}" if written else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


def test_behind_one_proxy_two_clients_get_their_own_budgets(proxied):
    client = proxied.test_client()
    alice = [_api_try(client, **_via_proxy("198.51.100.7")) for _ in range(11)]
    assert alice[:10] == [404] * 10
    assert alice[10] == 429
    # another client behind the same proxy is not locked out by the first
    assert _api_try(client, **_via_proxy("203.0.113.9")) == 404


def test_behind_a_proxy_an_address_the_client_writes_itself_is_ignored(proxied):
    client = proxied.test_client()
    statuses = [
        _api_try(client, **_via_proxy("198.51.100.7", written=f"192.0.2.{n}")) for n in range(11)
    ]
    assert statuses[10] == 429  # a new forged address each time bought nothing


def test_without_a_proxy_a_forged_forwarded_for_is_ignored(direct):
    client = direct.test_client()
    statuses = [
        _api_try(client, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        for n in range(11)
    ]
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429


def test_the_receipt_code_budget_is_shared_by_the_three_endpoints(direct):
    client = direct.test_client()
    web = direct.test_client()
    page = web.get("/follow-up").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token
    statuses = [
        web.post("/follow-up", data={"csrf_token": token.group(1), "code": WRONG}).status_code
        for _ in range(4)
    ]
    statuses += [_api_try(client) for _ in range(3)]
    statuses += [_api_try(client, "/api/v1/followup/messages") for _ in range(3)]
    assert 429 not in statuses
    assert _api_try(client) == 429
    assert _api_try(client, "/api/v1/followup/messages") == 429
    again = web.post("/follow-up", data={"csrf_token": token.group(1), "code": WRONG})
    assert again.status_code == 429


def test_every_client_together_has_a_cap_per_minute(direct):
    client = direct.test_client()
    statuses = [_api_try(client, REMOTE_ADDR=f"198.51.{n // 250}.{n % 250}") for n in range(121)]
    assert statuses[:120] == [404] * 120
    assert statuses[120] == 429  # a 121st address, never seen before, waits too


def test_ipv6_clients_count_by_their_64_network(direct):
    client = direct.test_client()
    statuses = [_api_try(client, REMOTE_ADDR=f"2001:db8:1:2:{n:x}::{n:x}") for n in range(1, 12)]
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429  # eleven addresses of one /64: one budget
    assert _api_try(client, REMOTE_ADDR="2001:db8:1:3::1") == 404  # the next /64 is another


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("fe80::1%eth0", "fe80::/64"),
        ("", "unknown"),
        (None, "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_client_network(address, network):
    assert client_network(address) == network


def test_trusted_proxy_hops_is_read_and_checked(tmp_path):
    base = {"GRIEVANCE_ENV": "development", "GRIEVANCE_INSTANCE_PATH": str(tmp_path)}
    assert Settings.from_env(base).trusted_proxy_hops == 0
    assert Settings.from_env({**base, "TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
    for bad in ("-1", "one", "11"):
        with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
            Settings.from_env({**base, "TRUSTED_PROXY_HOPS": bad})


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_backed(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    if not _redis_reachable():
        if os.environ.get("CI_REQUIRE_REDIS"):
            pytest.fail(f"Redis does not answer at {REDIS_URL} (CI_REQUIRE_REDIS is set)")
        pytest.skip(f"needs Redis at {REDIS_URL} (CI runs it)")
    yield from _app(settings, tmp_path, ratelimit_storage_uri=REDIS_URL)


def test_the_count_lives_in_redis_not_in_the_process(redis_backed, settings, tmp_path):
    """A second app built in the same process (as another gunicorn worker would build its
    own) starts with new limiter storage: with memory:// it would count from zero; with
    Redis it sees the first one's attempts."""
    client = redis_backed.test_client()
    assert [_api_try(client) for _ in range(10)] == [404] * 10
    other_path = tmp_path / "other"
    other_path.mkdir()
    own = replace(
        settings,
        database_url=f"sqlite:///{tmp_path / 'limits.sqlite3'}",
        instance_path=other_path,
        ratelimit_storage_uri=REDIS_URL,
    )
    other = create_app(own, clock=FixedClock(START), keyring=Keyring.generate())
    try:
        assert _api_try(other.test_client()) == 429
    finally:
        with other.app_context():
            db.engine.dispose()
