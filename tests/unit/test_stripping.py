"""Nothing a file says about who made it survives the checks (DESIGN invariant 1): canary
names written in every place a format keeps metadata are gone from the bytes kept, and the
sound and the pages are still there. Pictures over the pixel limit are refused from their
header, large pictures allowed cost about one decoded copy, and decodes wait their turn."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import threading
import time
import warnings
import wave
import zlib
from pathlib import Path

import pikepdf
import pytest
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from PIL import Image, ImageFile

from grievance.services import stripping
from grievance.services.attachments import UploadRefused, check_file
from tests import media
from tests.unit.test_attachment_checks import _png_header_only

CANARY = "Shapla Begum Canary"
ROOT = Path(__file__).resolve().parents[2]


def _nowhere(data: bytes) -> None:
    """The canary in none of the encodings a format may use for it."""
    for encoded in (
        CANARY.encode(),
        CANARY.encode("utf-16-le"),
        CANARY.encode("utf-16-be"),
        CANARY.encode().hex().encode(),
        CANARY.encode().hex().upper().encode(),
    ):
        assert encoded not in data
    assert b"Canary" not in data


# -- documents --------------------------------------------------------------------------
def test_a_pdf_loses_its_author_xmp_private_data_comment_authors_and_old_revisions():
    original = media.pdf_with_metadata(CANARY)
    assert original.count(CANARY.encode()) >= 8  # Info, XMP twice, PieceInfo, /T, revision

    clean = check_file("statement.pdf", original)

    assert clean.content_type == "application/pdf"
    _nowhere(clean.data)
    with pikepdf.open(io.BytesIO(clean.data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                assert "/Metadata" not in obj
                assert "/PieceInfo" not in obj
        assert len(pdf.pages) == 1
        (comment,) = pdf.pages[0].Annots  # the comment stays, without its author
        assert str(comment.Contents) == "see the date"
        assert "/T" not in comment
        assert bytes(pdf.trailer.ID[0]) not in original  # a new identity, not the original file's


def test_a_clean_pdf_keeps_its_pages_and_words_and_passes_unchanged():
    document = media.pdf_document("payslip of March, line 4")
    assert check_file("pay.pdf", document).data == document
    with pikepdf.open(io.BytesIO(document)) as pdf:
        assert b"payslip of March" in pdf.pages[0].Contents.read_bytes()


def test_a_form_field_keeps_its_name():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            FT=pikepdf.Name.Tx,
            T=pikepdf.String("employee_number"),
            Rect=[0, 0, 10, 10],
        )
    )
    pdf.pages[0].Annots = pdf.make_indirect([field])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field])
    out = io.BytesIO()
    pdf.save(out)
    assert b"employee_number" in check_file("form.pdf", out.getvalue()).data


def _encrypted_pdf(user: str) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = CANARY
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(user=user, owner="owner-secret"))
    return out.getvalue()


def test_a_pdf_locked_with_a_password_is_refused_and_one_only_restricted_is_opened():
    with pytest.raises(UploadRefused) as refused:
        check_file("locked.pdf", _encrypted_pdf(user="open-sesame"))
    assert refused.value.reason == "unreadable"
    clean = check_file("restricted.pdf", _encrypted_pdf(user=""))
    with pikepdf.open(io.BytesIO(clean.data)) as pdf:
        assert not pdf.is_encrypted
        assert "/Info" not in pdf.trailer
    _nowhere(clean.data)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n% payslip of March, line 4\n%%EOF\n",  # no objects at all
        b"%PDF-1.7\n" + bytes(5000),
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << >>\n%%EOF",
    ],
)
def test_a_pdf_that_cannot_be_parsed_is_refused(data):
    with pytest.raises(UploadRefused) as refused:
        check_file("broken.pdf", data)
    assert (refused.value.reason, refused.value.filename) == ("unreadable", "broken.pdf")


def test_a_compressed_stream_is_copied_without_being_inflated():
    """A zip bomb in a page (80 MB of zeros in 360 KB) costs nothing: streams are not
    decoded, and qpdf is told to stop inflating any one stream past a limit."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    assert stripping.PDF_STREAM_MEMORY < 80 * 2**20
    deflate = zlib.compressobj(1)
    bomb = b"".join(deflate.compress(bytes(1 << 24)) for _ in range(5)) + deflate.flush()
    stream = pikepdf.Stream(pdf, bomb)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(stream)
    out = io.BytesIO()
    pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    started = time.perf_counter()
    clean = check_file("bomb.pdf", out.getvalue())
    assert time.perf_counter() - started < 1
    assert len(clean.data) < len(out.getvalue()) + 1000
    with (
        pikepdf.open(io.BytesIO(clean.data)) as reopened,
        pytest.raises(pikepdf.DataDecodingError, match="memory limit"),
    ):
        reopened.pages[0].Contents.read_bytes()


# -- recordings -------------------------------------------------------------------------
def test_an_mp3_loses_its_id3_and_ape_tags_and_keeps_its_sound():
    original = media.mp3_with_tags(CANARY)
    assert original.count(CANARY.encode()) >= 4  # ID3v2 (3 frames), ID3v1, APEv2
    clean = check_file("memo.mp3", original)
    assert clean.content_type == "audio/mpeg"
    _nowhere(clean.data)
    assert clean.data == media._mpeg_frames()  # the sound, byte for byte
    assert MP3(io.BytesIO(clean.data)).tags is None


def test_raw_aac_from_a_voice_recorder_loses_its_tags_too():
    clean = check_file("memo.aac", media.mp3_with_tags(CANARY, sound=media.adts_frames()))
    _nowhere(clean.data)
    assert clean.data == media.adts_frames()


def test_an_ogg_recording_loses_its_comments_and_keeps_its_sound():
    original = media.ogg_with_tags(CANARY)
    assert CANARY.encode() in original
    clean = check_file("memo.ogg", original)
    assert clean.content_type == "audio/ogg"
    _nowhere(clean.data)
    audio = OggOpus(io.BytesIO(clean.data))
    assert audio.tags is not None
    assert list(audio.tags) == []
    assert audio.info.length == pytest.approx(OggOpus(io.BytesIO(original)).info.length)


def test_an_ogg_file_of_several_streams_is_refused():
    """Chained recordings each carry their own comments; mutagen cleans the first only."""
    chained = media.ogg_opus(serial=1) + media.ogg_opus(serial=2, tags={"artist": CANARY})
    with pytest.raises(UploadRefused, match="unreadable"):
        check_file("two.ogg", chained)


def test_an_m4a_recording_loses_its_itunes_and_location_atoms_and_keeps_its_sound():
    original = media.m4a_with_tags(CANARY)
    assert original.count(CANARY.encode()) == 3  # title, artist, ©xyz location
    assert media.m4a_sound(original) == media.M4A_SOUND
    clean = check_file("memo.m4a", original)
    assert clean.content_type == "audio/mp4"
    _nowhere(clean.data)
    assert b"+23.8103+090.4125" not in clean.data
    assert not MP4(io.BytesIO(clean.data)).tags
    assert media.m4a_sound(clean.data) == media.M4A_SOUND  # its offset still points at it


def test_a_wav_recording_keeps_its_format_and_samples_and_nothing_else():
    original = media.wav_with_tags(CANARY)
    assert original.count(CANARY.encode()) >= 4  # LIST/INFO (2), bext, ID3
    clean = check_file("memo.wav", original)
    assert clean.content_type == "audio/wav"
    _nowhere(clean.data)
    with wave.open(io.BytesIO(clean.data)) as cleaned, wave.open(io.BytesIO(original)) as before:
        assert cleaned.getparams() == before.getparams()
        assert cleaned.readframes(10_000) == before.readframes(10_000)
    assert clean.data == media.wav_audio()  # what `wave` writes is what a WAV needs


def test_a_wav_recording_cut_short_keeps_what_there_is():
    cut = media.wav_audio()[:-100]
    with wave.open(io.BytesIO(check_file("cut.wav", cut).data)) as cleaned:
        assert cleaned.getnframes() == 800 - 50


def test_an_amr_recording_has_no_metadata_and_is_kept_as_it_is():
    assert check_file("memo.amr", media.AMR).data == media.AMR


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(500)),  # a tag, no sound
        ("b.mp3", b"\xff\xfb" + bytes(50)),
        ("c.ogg", b"OggS" + bytes(100)),
        ("d.ogg", media.ogg_opus()[:-20]),  # the last page cut short
        ("e.m4a", b"\x00\x00\x00\x14ftypM4A \x00\x00\x00\x00M4A " + bytes(40)),
        ("f.wav", b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"),
        ("g.wav", b"RIFF\x04\x00\x00\x00WAVE"),
    ],
)
def test_a_recording_that_cannot_be_parsed_is_refused(name, data):
    with pytest.raises(UploadRefused) as refused:
        check_file(name, data)
    assert (refused.value.reason, refused.value.filename) == ("unreadable", name)


# -- pictures ---------------------------------------------------------------------------
@pytest.fixture
def no_decoding(monkeypatch):
    def load(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_the_limit_is_twenty_megapixels_read_from_the_header(no_decoding):
    assert stripping.MAX_PIXELS == 20_000_000
    assert Image.MAX_IMAGE_PIXELS == stripping.MAX_PIXELS
    for width, height in [(5000, 4001), (4001, 5000), (30_000, 30_000), (200_000, 101)]:
        with pytest.raises(UploadRefused) as refused:
            check_file("big.png", _png_header_only(width, height))
        assert (refused.value.reason, refused.value.filename) == ("too_many_pixels", "big.png")
    with pytest.raises(AssertionError, match="pixels were decoded"):
        check_file("allowed.png", _png_header_only(5000, 4000))  # exactly 20 MP: decoded


def test_the_limit_holds_where_pillow_only_warns(no_decoding):
    """Between the limit and twice the limit Pillow warns; a process whose warnings
    filters say otherwise still refuses those pictures, from their header."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(UploadRefused) as refused:
            check_file("big.png", _png_header_only(5000, 4001))
    assert refused.value.reason == "too_many_pixels"
    assert [w.category for w in caught] == [Image.DecompressionBombWarning]


def test_a_small_png_of_7070_by_7070_is_refused_at_once_without_decoding(no_decoding):
    out = io.BytesIO()
    Image.new("1", (7070, 7070)).save(out, "PNG")
    assert len(out.getvalue()) < 200_000
    started = time.perf_counter()
    with pytest.raises(UploadRefused) as refused:
        check_file("bomb.png", out.getvalue())
    assert time.perf_counter() - started < 0.5
    assert refused.value.reason == "too_many_pixels"


#: The peak resident memory of this process alone (VmHWM: getrusage's ru_maxrss would
#: carry over the peak of the pytest process it was forked from), reset before the check.
_MEASURE = textwrap.dedent(
    """
    import sys
    from grievance.services.attachments import check_file
    data = open(sys.argv[1], "rb").read()
    def status(field: str) -> int:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak starts again from here
    before = status("VmRSS")
    clean = check_file("portrait.jpg", data)
    open(sys.argv[2], "wb").write(clean.data)
    print(status("VmHWM") - before)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_large_allowed_photo_costs_about_one_decoded_copy(tmp_path):
    """A 19 MP portrait photo, stored on its side with an EXIF orientation as phones do:
    decoding, turning it upright and encoding it stay under three decoded copies (they
    cost 4.5 before; the picture itself is generated here, outside the measure)."""
    width, height = 5300, 3580
    exif = Image.Exif()
    exif[0x0112] = 6
    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    picture.save(tmp_path / "portrait.jpg", "JPEG", quality=90, exif=exif)
    del picture

    result = subprocess.run(  # noqa: S603 (this interpreter, our own script)
        [sys.executable, "-c", _MEASURE, tmp_path / "portrait.jpg", tmp_path / "clean.jpg"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    decoded = width * height * 4  # Pillow keeps RGB pixels in four bytes
    assert int(result.stdout) < 3 * decoded, f"{int(result.stdout) / 2**20:.0f} MB"
    with Image.open(tmp_path / "clean.jpg") as upright:
        assert upright.size == (height, width)
        assert dict(upright.getexif()) == {}


def test_at_most_two_pictures_are_decoded_at_once(monkeypatch):
    assert stripping.MAX_CONCURRENT_DECODES == 2
    inside, most, lock = 0, 0, threading.Lock()
    release, two_inside = threading.Event(), threading.Event()
    load = ImageFile.ImageFile.load

    def counting_load(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
            if inside == 2:
                two_inside.set()
        release.wait(timeout=10)
        with lock:
            inside -= 1
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, "PNG")
    results: list[str] = []

    def send() -> None:
        results.append(check_file("a.png", out.getvalue()).content_type)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    assert two_inside.wait(timeout=10)
    time.sleep(0.1)  # time for a third to come in, were it let in
    assert most == 2
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert results == ["image/png"] * 5
    assert most == 2
