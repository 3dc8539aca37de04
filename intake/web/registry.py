"""The public case registry of each mechanism (issue 16, items 1 and 5): the page, its
CSV export (the same rows), the Atom feed of new public events, and each published
case's page with its public events and the transparency log's head. Withheld cases are
404, as everywhere public (`services.registry`, `transparency.is_published`). Thin: every
row and count comes from `grievance.services.registry`."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree as ET

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale, gettext
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.extensions import intake_limiter as limiter
from grievance.http import events as event_words
from grievance.http import mechanisms
from grievance.http.context import current_settings, service_context
from grievance.http.labels import STAGE_NAMES
from grievance.models import Case, Mechanism, Visibility
from grievance.services import registry, transparency
from grievance.services.casereads import Reader, public_view
from grievance.services.context import Context

blueprint = Blueprint("registry", __name__, url_prefix="/registry")

READS = "120 per minute; 3000 per hour"
ATOM = "http://www.w3.org/2005/Atom"


def mechanism_of(code: str) -> Mechanism:
    found = registry.mechanism_named(service_context(), code)
    if found is None:
        abort(404)
    return found


def page_of(code: str) -> tuple[Context, Mechanism, registry.Page]:
    ctx = service_context()
    mechanism = mechanism_of(code)
    filters = registry.filters_from(ctx, mechanism, request.args)
    return ctx, mechanism, registry.page(ctx, mechanism, filters, registry.after_from(request.args))


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return str(get_locale().territories.get(code, code))


def theme_names(ctx: Context, mechanism: Mechanism) -> dict[str, str]:
    # policy labels are extracted for translation by grievance.policies.extract
    return {theme.code: str(gettext(theme.label)) for theme in ctx.policy(mechanism).themes}


@blueprint.get("/<code>")
@limiter.limit(READS)
def index(code: str) -> str:
    ctx, mechanism, page = page_of(code)
    names = theme_names(ctx, mechanism)
    facets = registry.facets(ctx, mechanism)
    return render_template(
        "registry/index.html",
        mechanism=mechanism,
        mechanism_name=mechanisms.name_of(ctx, mechanism),
        page=page,
        facets=facets,
        theme_names=names,
        stage_names=STAGE_NAMES,
        country_name=country_name,
        countries=sorted(key for key in facets.countries if key),
        names_companies=ctx.policy(mechanism).registry.companies != "none",
        after=registry.after_from(request.args),
    )


@blueprint.get("/<code>/cases.csv")
@limiter.limit(READS)
def export_csv(code: str) -> Response:
    """Exactly the rows of the page with the same filters and `after`."""
    _ctx, mechanism, page = page_of(code)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(registry.CSV_COLUMNS)
    writer.writerows(entry.as_row() for entry in page.entries)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="registry-{mechanism.code}.csv"'},
    )


@blueprint.get("/<code>/feed.atom")
@limiter.limit(READS)
def feed(code: str) -> Response:
    """An Atom feed (RFC 4287) of the newest public events of the published cases."""
    ctx = service_context()
    mechanism = mechanism_of(code)
    items = registry.feed(ctx, mechanism)
    base = current_settings().public_base_url.rstrip("/")
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(root, f"{{{ATOM}}}id").text = f"{base}/registry/{mechanism.code}"
    ET.SubElement(root, f"{{{ATOM}}}title").text = gettext(
        "Public case registry – %(mechanism)s", mechanism=mechanisms.name_of(ctx, mechanism)
    )
    newest = items[0].created_at if items else mechanism.created_at
    ET.SubElement(root, f"{{{ATOM}}}updated").text = registry.stamp(newest)
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = mechanisms.name_of(ctx, mechanism)
    ET.SubElement(
        root, f"{{{ATOM}}}link", rel="self", href=f"{base}/registry/{mechanism.code}/feed.atom"
    )
    for item in items:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:sha256:{item.hash}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = gettext(
            "%(reference)s: a new public event", reference=item.reference
        )
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = registry.stamp(item.created_at)
        link = f"{base}/registry/{mechanism.code}/{item.reference}"
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=link)
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = f"{item.kind} #{item.seq}"
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")


@blueprint.get("/<code>/<reference>")
@limiter.limit(READS)
def case(code: str, reference: str) -> str:
    ctx = service_context()
    mechanism = mechanism_of(code)
    entry = registry.find(ctx, mechanism, reference)
    if entry is None:
        abort(404)
    row = db.session.get(Case, entry.id)
    assert row is not None
    view = public_view(ctx, row)
    log = transparency.case_log(ctx, row, Visibility.PUBLIC)
    base = current_settings().public_base_url.rstrip("/")
    return render_template(
        "registry/case.html",
        mechanism=mechanism,
        mechanism_name=mechanisms.name_of(ctx, mechanism),
        entry=entry,
        events=[(event, event_words.describe(event, Reader.PUBLIC)) for event in view.events],
        log=log,
        theme_names=theme_names(ctx, mechanism),
        stage_names=STAGE_NAMES,
        country_name=country_name,
        # the verifier's command line (not words to translate)
        command=f"python docs/verify_case.py {base} {entry.reference}",
        api_url=url_for("transparency.case", reference=entry.reference),
    )
