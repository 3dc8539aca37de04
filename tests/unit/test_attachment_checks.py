"""Files are accepted by their content, pictures lose every piece of metadata, and names
are made safe; everything else is refused with a reason the form can translate."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from grievance.services.attachments import (
    MAX_BYTES,
    UploadRefused,
    check_file,
    clean_filename,
    sniff,
)

SERIAL, OWNER, XMP = "CAMSERIAL998877", "Shapla Secret", "XMPSECRET"


def _jpeg_with_metadata(orientation: int = 6) -> bytes:
    image = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = orientation  # turned: the camera was held upright
    exif[0x013B] = OWNER  # Artist
    exif[0x8825] = {1: "N", 2: (23.0, 48.0, 0.0), 3: "E", 4: (90.0, 24.0, 0.0)}  # GPS
    exif.get_ifd(0x8769)[0xA431] = SERIAL  # BodySerialNumber
    out = io.BytesIO()
    image.save(
        out,
        "JPEG",
        exif=exif,
        comment=OWNER.encode(),
        xmp=f"<x:xmpmeta>{XMP}</x:xmpmeta>".encode(),
    )
    return out.getvalue()


def test_a_photo_loses_its_gps_position_serial_number_and_owner():
    original = _jpeg_with_metadata()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test has GPS
    for secret in (SERIAL, OWNER, XMP):
        assert secret.encode() in original

    clean = check_file("IMG_001.JPG", original)

    assert clean.content_type == "image/jpeg"
    for secret in (SERIAL, OWNER, XMP):
        assert secret.encode() not in clean.data
    stripped = Image.open(io.BytesIO(clean.data))
    assert dict(stripped.getexif()) == {}
    assert "icc_profile" not in stripped.info
    assert "comment" not in stripped.info
    # turned the way the camera meant, since the orientation tag is gone too
    assert stripped.size == (20, 40)


def test_a_png_loses_its_text_chunks_and_keeps_its_transparency():
    image = Image.new("RGBA", (8, 8), (0, 0, 255, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", OWNER)
    info.add_itxt("XML:com.adobe.xmp", XMP)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    assert OWNER.encode() in out.getvalue()

    clean = check_file("screen.png", out.getvalue())

    assert OWNER.encode() not in clean.data
    assert XMP.encode() not in clean.data
    reopened = Image.open(io.BytesIO(clean.data))
    assert reopened.mode == "RGBA"
    assert reopened.getpixel((0, 0)) == (0, 0, 255, 128)


def test_a_webp_photo_is_stripped_too():
    exif = Image.Exif()
    exif[0x013B] = OWNER
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "green").save(out, "WEBP", exif=exif)
    assert OWNER.encode() in out.getvalue()
    clean = check_file("photo.webp", out.getvalue())
    assert clean.content_type == "image/webp"
    assert OWNER.encode() not in clean.data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"OggS\x00\x02" + bytes(30), "audio/ogg"),
        (b"#!AMR\n" + bytes(30), "audio/amr"),
        (b"ID3\x04\x00" + bytes(30), "audio/mpeg"),
        (b"\xff\xfb\x90\x00" + bytes(30), "audio/mpeg"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", None),  # a video: GPS in its atoms
        (b"MZ\x90\x00", None),
        (b"<html><script>alert(1)</script>", None),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', None),
        (b"PK\x03\x04", None),
    ],
)
def test_types_are_known_by_their_content(data, expected):
    assert sniff(data) == expected


def test_a_claimed_name_does_not_make_a_type():
    with pytest.raises(UploadRefused) as refused:
        check_file("photo.jpg", b"<html><script>alert(1)</script></html>")
    assert refused.value.reason == "type"
    assert refused.value.filename == "photo.jpg"


def test_empty_too_big_and_broken_files_are_refused_with_their_reason():
    with pytest.raises(UploadRefused, match="empty"):
        check_file("a.pdf", b"")
    with pytest.raises(UploadRefused, match="too_big"):
        check_file("a.pdf", b"%PDF-" + bytes(MAX_BYTES))
    with pytest.raises(UploadRefused, match="unreadable"):
        check_file("a.jpg", b"\xff\xd8\xff\xe0" + bytes(100))  # a JPEG header, no picture


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge size: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_a_picture_claiming_a_huge_size_is_refused():
    with pytest.raises(UploadRefused) as refused:
        check_file("bomb.png", _png_header_only(30_000, 30_000))
    assert refused.value.reason == "too_many_pixels"


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("C:\\Users\\shapla\\IMG_001.JPG", "image/jpeg", "IMG_001.jpg"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("payslip march.exe", "application/pdf", "payslip march.pdf"),
        ("বেতন\x00\x1b.pdf", "application/pdf", "বেতন.pdf"),
        ("", "audio/ogg", "file.ogg"),
        ("...", "audio/ogg", "file.ogg"),
        ("e\u0301.m4a", "audio/mp4", "\u00e9.m4a"),
    ],
)
def test_names_lose_paths_and_control_characters_and_get_the_true_extension(
    name, content_type, expected
):
    assert clean_filename(name, content_type) == expected
