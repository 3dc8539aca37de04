"""The public front page: what the mechanisms are, in the visitor's language."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from grievance.extensions import db
from grievance.models import Mechanism

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def index() -> str:
    mechanisms = db.session.scalars(select(Mechanism).order_by(Mechanism.name)).all()
    return render_template("public/index.html", mechanisms=mechanisms)
