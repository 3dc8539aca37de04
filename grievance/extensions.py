"""The extension instances, bound to an app in `create_app`."""

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


limiter = Limiter(key_func=hashed_client, default_limits=[], headers_enabled=True)
