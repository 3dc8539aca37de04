"""The extension instances, bound to the apps by the factories in `grievance.app`.

Each surface has its own rate limiter: the intake app's limits (complaints, receipt
codes) and the staff app's (sign-in) are counted apart, under their own key prefixes.
"""

import hashlib
import hmac
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from grievance.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
#: Staff sign-in; configured by `grievance.web.auth.init_login`.
login = LoginManager()


def client_network(address: str | None) -> str:
    """The unit a rate limit counts: an IPv4 address, or the /64 network of an IPv6 one
    (one home or phone gets a whole /64: counting single addresses would give it 2^64
    budgets). An IPv4 address mapped into IPv6 counts as itself."""
    try:
        parsed = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def hashed_client() -> str:
    """Rate limits count per client without keeping its IP address in clear: an HMAC of
    its network (`client_network`) under the app's secret key (ASVS 7.1.2). Behind
    trusted proxies `request.remote_addr` is the client's, set by ProxyFix."""
    network = client_network(request.remote_addr).encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"rate-limit\x00" + network, hashlib.sha256).hexdigest()[:32]


def everyone() -> str:
    """The key of a limit that counts every client together (a global cap)."""
    return "everyone"


#: The complaint form, the follow-up pages, the JSON API (the intake app).
intake_limiter = Limiter(
    key_func=hashed_client, default_limits=[], headers_enabled=True, key_prefix="intake"
)
#: Staff sign-in and account pages (the staff app).
staff_limiter = Limiter(
    key_func=hashed_client, default_limits=[], headers_enabled=True, key_prefix="staff"
)
LIMITERS = (intake_limiter, staff_limiter)


#: Set while a worker job runs (`sqlite_writer`): on SQLite its transactions begin
#: IMMEDIATE, taking turns for the write lock (see `grievance.app._sqlite_begin`).
_SQLITE_WRITER: ContextVar[bool] = ContextVar("sqlite_writer", default=False)


@contextmanager
def sqlite_writer() -> Iterator[None]:
    """Transactions begun inside this block may write: on SQLite they wait their turn."""
    token = _SQLITE_WRITER.set(True)
    try:
        yield
    finally:
        _SQLITE_WRITER.reset(token)


def in_sqlite_writer() -> bool:
    return _SQLITE_WRITER.get()
