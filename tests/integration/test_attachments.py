"""Files with a complaint and in the follow-up: sealed under the case's key, kept when the
form comes back with an error, offered back only to those with a part in the case, gone
with the identities when retention erases them."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from grievance.models import Attachment, Case, Message, PendingUpload, Role, Stage, Visibility
from grievance.services import attachments, caselog
from grievance.services.actors import Actor
from grievance.services.attachments import MAX_FILES, PENDING_HOURS, CleanFile, check_file
from grievance.services.errors import NotAllowed
from grievance.services.filing import find_by_receipt
from grievance.services.retention import erase_expired_identities
from tests import media
from tests.factories import (
    events_of,
    make_company,
    make_mechanism,
    make_reviewer,
    make_user,
    staff_case,
    walk_to,
)

STATEMENT = "The supervisor locked the fire exit on line 4."
SECRET_SERIAL = "CAMSERIAL556677"


def _photo() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (23.0, 48.0, 0.0), 3: "E", 4: (90.0, 24.0, 0.0)}
    exif.get_ifd(0x8769)[0xA431] = SECRET_SERIAL
    out = io.BytesIO()
    Image.new("RGB", (30, 30), "blue").save(out, "JPEG", exif=exif)
    return out.getvalue()


PDF = media.pdf_document("payslip of March, line 4")
CANARY = "Shapla Begum Canary"


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def _form(client, **data: object) -> dict[str, object]:
    page = client.get("/complaint?lang=en").get_data(as_text=True)
    form: dict[str, object] = {
        "csrf_token": _token(page),
        "mechanism": "ATT",
        "urgent": "no",
        "kind": "affected",
        "anonymity": "anonymous",
        "contact": "none",
        "statement": STATEMENT,
    }
    form.update(data)
    return form


def _receipt(page: str) -> str:
    match = re.search(r'class="receipt-code"[^>]*><strong>([\d ]+)<', page)
    assert match, page
    return match.group(1).replace(" ", "")


@pytest.fixture
def mechanism(ctx):
    return make_mechanism(ctx, code="ATT")


def test_files_sent_with_a_complaint_are_sealed_stripped_and_logged(app, ctx, mechanism):
    client = app.test_client()
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, files=[_file(_photo(), "IMG_20260301.jpg"), _file(PDF, "pay.pdf")]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    filed = find_by_receipt(ctx, mechanism, _receipt(response.get_data(as_text=True)))
    assert filed is not None
    case = ctx.session.get_one(Case, filed.case_id)
    rows = attachments.attachments_of(ctx, case)
    assert [(a.content_type, a.uploaded_by_role) for a in rows] == [
        ("image/jpeg", "complainant"),
        ("application/pdf", "complainant"),
    ]
    complainant = Actor.for_complainant(filed)
    photo, payslip = (attachments.read_attachment(ctx, complainant, a) for a in rows)
    assert photo.filename == "IMG_20260301.jpg"
    assert SECRET_SERIAL.encode() not in photo.data
    assert dict(Image.open(io.BytesIO(photo.data)).getexif()) == {}
    assert (payslip.filename, payslip.data) == ("pay.pdf", PDF)
    for row in rows:  # nothing readable at rest, not even the names
        assert b"IMG_20260301" not in row.filename_enc
        assert b"payslip" not in row.content_enc
    assert ctx.session.scalar(select(PendingUpload)) is None  # held files are let go
    (event,) = events_of(ctx.session, case, "files_added")
    assert event.visibility is Visibility.PARTIES
    assert caselog.visible_payload(event, Visibility.PARTIES) == {}
    assert event.payload["attachment_ids"] == [a.id for a in rows]
    assert list(caselog.verify_all(ctx.session)) == []


def test_documents_and_recordings_sent_with_a_complaint_keep_no_author(app, ctx, mechanism):
    """The canaries an office suite and a voice recorder write (PDF Author and XMP
    creator; M4A title, artist and location) are in none of the bytes kept."""
    document, recording = media.pdf_with_metadata(CANARY), media.m4a_with_tags(CANARY)
    client = app.test_client()
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, files=[_file(document, "statement.pdf"), _file(recording, "m.m4a")]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    filed = find_by_receipt(ctx, mechanism, _receipt(response.get_data(as_text=True)))
    assert filed is not None
    rows = attachments.attachments_of(ctx, ctx.session.get_one(Case, filed.case_id))
    assert [row.content_type for row in rows] == ["application/pdf", "audio/mp4"]
    kept = [attachments.read_attachment(ctx, Actor.for_complainant(filed), r) for r in rows]
    for file in kept:
        assert CANARY.encode() not in file.data
        assert b"Canary" not in file.data
    assert media.m4a_sound(kept[1].data) == media.M4A_SOUND


def test_a_photo_over_the_pixel_limit_is_refused_by_name_in_the_readers_language(app, mechanism):
    bomb = io.BytesIO()
    Image.new("1", (7070, 7070)).save(bomb, "PNG")
    client = app.test_client()
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, files=[_file(bomb.getvalue(), "huge.png"), _file(PDF, "pay.pdf")]),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "huge.png is too large a photo: each photo may have at most 20 MP." in page
    assert len(re.findall(r'name="held" value="', page)) == 1  # the PDF is kept
    page = client.get("/complaint?lang=bn").get_data(as_text=True)
    response = client.post(
        "/complaint?lang=bn",
        follow_redirects=True,
        data={"csrf_token": _token(page), "files": [_file(bomb.getvalue(), "huge.png")]},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert "huge.png ছবিটি খুব বড়: প্রতিটি ছবি সর্বোচ্চ 20 MP হতে পারে।" in body


def test_a_form_with_an_error_keeps_the_files_until_it_is_sent(app, ctx, mechanism):
    client = app.test_client()
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, statement="", files=[_file(PDF, "pay.pdf"), _file(_photo(), "a.jpg")]),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tell us what happened." in page
    tokens = re.findall(r'name="held" value="([^"]+)"', page)
    assert len(tokens) == 2
    assert "pay.pdf" in page
    assert "a.jpg" in page
    # waiting in the database, but sealed under a key only the form holds
    waiting = list(ctx.session.scalars(select(PendingUpload)))
    assert len(waiting) == 2
    assert all(b"payslip" not in row.content_enc for row in waiting)
    assert attachments.held(ctx, tokens[0].split(".")[0] + ".AAAA") is None

    # the person leaves the photo out (unticks it) and sends again, with the statement
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, held=[tokens[0]]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    filed = find_by_receipt(ctx, mechanism, _receipt(response.get_data(as_text=True)))
    assert filed is not None
    (row,) = list(ctx.session.scalars(select(Attachment)))
    assert row.case_id == filed.case_id
    assert attachments.read_attachment(ctx, Actor.for_complainant(filed), row).data == PDF
    assert attachments.held(ctx, tokens[0]) is None  # used once
    assert attachments.held(ctx, tokens[1]) is not None  # left out: purged after a day


def test_refused_files_are_named_next_to_the_field_and_the_rest_is_kept(app, mechanism):
    client = app.test_client()
    files = [_file(b"MZ\x90\x00 a program", "setup.exe"), _file(PDF, "pay.pdf")]
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, files=files),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="files-error" role="alert"' in page
    assert "setup.exe cannot be added." in page
    assert 'href="#files"' in page  # in the error summary
    assert STATEMENT in page  # what was typed is kept
    assert len(re.findall(r'name="held" value="', page)) == 1


def test_at_most_five_files_go_with_one_form(app, mechanism):
    client = app.test_client()
    files = [_file(PDF, f"page{n}.pdf") for n in range(MAX_FILES + 1)]
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, files=files),
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "You can add at most 5 files." in page
    assert len(re.findall(r'name="held" value="', page)) == MAX_FILES


def test_refusals_are_in_the_readers_language(app, mechanism):
    client = app.test_client()
    page = client.get("/complaint?lang=bn").get_data(as_text=True)
    response = client.post(
        "/complaint?lang=bn",
        follow_redirects=True,
        data={"csrf_token": _token(page), "mechanism": "ATT", "files": [_file(b"MZ", "x.exe")]},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert "cannot be added" not in body
    assert "x.exe" in body


def test_uploads_never_touch_the_disk_in_clear(app, mechanism, monkeypatch):
    import werkzeug.wrappers.request

    def spooled(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(werkzeug.wrappers.request, "default_stream_factory", spooled)
    client = app.test_client()
    big = media.pdf_document(padding=2_000_000)  # larger than werkzeug's in-memory threshold
    # encoded here, in memory: the test client would spool a body this large to a file
    boundary, body = encode_multipart(_form(client, files=[_file(big, "big.pdf")]))
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 200


def test_a_request_too_large_gets_a_translated_page(app, mechanism, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    client = app.test_client()
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=_form(client, files=[_file(b"%PDF-" + bytes(60_000), "big.pdf")]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The files are too large" in response.get_data(as_text=True)


def test_pending_uploads_are_forgotten_after_a_day(ctx, clock):
    token = attachments.hold(ctx, CleanFile("a.pdf", "application/pdf", PDF))
    assert attachments.held(ctx, token) == CleanFile("a.pdf", "application/pdf", PDF)
    clock.advance(timedelta(hours=PENDING_HOURS, seconds=1))
    assert attachments.held(ctx, token) is None
    assert attachments.purge_pending(ctx) == 1
    assert ctx.session.scalar(select(PendingUpload)) is None


# -- the follow-up ---------------------------------------------------------------------
def _sign_in(client, code: str) -> None:
    page = client.get("/follow-up?lang=en").get_data(as_text=True)
    response = client.post("/follow-up?lang=en", data={"csrf_token": _token(page), "code": code})
    assert response.status_code == 302


@pytest.fixture
def followed(ctx):
    return staff_case(ctx)


def test_the_complainant_adds_files_with_or_without_a_message(app, ctx, followed):
    filed, _lead, _second = followed
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    response = client.post(
        "/follow-up/case?lang=en",
        data={"csrf_token": _token(page), "body": "", "files": [_file(PDF, "pay.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    response = client.post(
        "/follow-up/case?lang=en",
        data={"csrf_token": _token(page), "body": "A photo", "files": [_file(_photo(), "p.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    rows = attachments.attachments_of(ctx, filed.case)
    message = ctx.session.scalars(select(Message)).one()
    assert [a.message_id for a in rows] == [None, message.id]
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    assert "pay.pdf" in page
    assert "p.jpg" in page
    assert "2 files were added." not in page  # one event per sending
    assert page.count("1 file was added.") == 2


def test_an_empty_message_without_files_is_refused_in_place(app, followed):
    filed, _lead, _second = followed
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    response = client.post(
        "/follow-up/case?lang=en", data={"csrf_token": _token(page), "body": " "}
    )
    assert response.status_code == 422
    assert "Write a message or add a file." in response.get_data(as_text=True)


def test_a_file_downloads_for_its_own_complainant_only(app, ctx, followed):
    filed, _lead, _second = followed
    (row,) = attachments.attach(
        ctx, filed.case, Actor.for_complainant(filed.complainant), [check_file("pay.pdf", PDF)]
    )
    other, _, _ = staff_case(ctx)
    (elsewhere,) = attachments.attach(
        ctx, other.case, Actor.for_complainant(other.complainant), [check_file("x.pdf", PDF)]
    )
    client = app.test_client()
    assert client.get(f"/follow-up/files/{row.id}").status_code == 302  # not signed in
    _sign_in(client, filed.receipt_code)
    response = client.get(f"/follow-up/files/{row.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Disposition"] == "attachment; filename=pay.pdf"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/follow-up/files/{elsewhere.id}").status_code == 404
    assert client.get("/follow-up/files/999999").status_code == 404


def test_only_those_with_a_part_in_the_case_read_its_files(ctx, followed):
    filed, lead, _second = followed
    (row,) = attachments.attach(
        ctx, filed.case, Actor.for_complainant(filed.complainant), [check_file("pay.pdf", PDF)]
    )
    assert attachments.read_attachment(ctx, Actor.for_user(lead), row).data == PDF
    outsider = make_reviewer(ctx)
    company = make_company(ctx)
    company_user = make_user(ctx, Role.COMPANY, company=company)
    for actor in (Actor.for_user(outsider), Actor.for_user(company_user)):
        with pytest.raises(NotAllowed):
            attachments.read_attachment(ctx, actor, row)
    with pytest.raises(NotAllowed):
        attachments.attach(ctx, filed.case, Actor.for_user(outsider), [check_file("b.pdf", PDF)])


def test_retention_erases_the_files_with_the_identities(ctx, clock):
    mechanism = make_mechanism(
        ctx, code="RTA", overrides={"retention": {"identity_days_after_close": 30}}
    )
    filed, lead, second = staff_case(ctx, mechanism=mechanism)
    (row,) = attachments.attach(
        ctx, filed.case, Actor.for_complainant(filed.complainant), [check_file("pay.pdf", PDF)]
    )
    walk_to(ctx, filed, Stage.CLOSED, lead, second)
    clock.advance(timedelta(days=30))
    assert erase_expired_identities(ctx) == [filed.case.reference]
    ctx.session.refresh(row)
    assert (row.filename_enc, row.content_enc) == (b"", b"")
    assert ctx.session.get_one(Case, filed.case.id).stage is Stage.CLOSED


def test_after_erasure_the_follow_up_page_still_opens_without_messages_or_files(app, ctx, clock):
    mechanism = make_mechanism(
        ctx, code="RTB", overrides={"retention": {"identity_days_after_close": 30}}
    )
    filed, lead, second = staff_case(ctx, mechanism=mechanism)
    (row,) = attachments.attach(
        ctx, filed.case, Actor.for_complainant(filed.complainant), [check_file("pay.pdf", PDF)]
    )
    walk_to(ctx, filed, Stage.CLOSED, lead, second)
    clock.advance(timedelta(days=30))
    erase_expired_identities(ctx)
    client = app.test_client()
    _sign_in(client, filed.receipt_code)
    response = client.get("/follow-up/case?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "were deleted when its time of keeping ended" in page
    assert "pay.pdf" not in page
    assert client.get(f"/follow-up/files/{row.id}").status_code == 404
