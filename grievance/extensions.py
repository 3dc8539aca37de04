"""The extension instances, bound to the apps by the factories in `grievance.app`.

Each surface has its own rate limiter: the intake app's limits (complaints, receipt
codes) and the staff app's (sign-in) are counted apart, under their own key prefixes.
"""

import hashlib
import hmac

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


def hashed_client() -> str:
    """Rate limits count per client without keeping its IP address in clear: an HMAC of
    the address under the app's secret key (ASVS 7.1.2)."""
    address = (request.remote_addr or "unknown").encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"rate-limit\x00" + address, hashlib.sha256).hexdigest()[:32]


#: The complaint form, the follow-up pages, the JSON API (the intake app).
intake_limiter = Limiter(
    key_func=hashed_client, default_limits=[], headers_enabled=True, key_prefix="intake"
)
#: Staff sign-in and account pages (the staff app).
staff_limiter = Limiter(
    key_func=hashed_client, default_limits=[], headers_enabled=True, key_prefix="staff"
)
LIMITERS = (intake_limiter, staff_limiter)
