"""Pictures over the pixel limit are refused from their header, without decoding a pixel;
a large picture allowed costs about one decoded copy; decodes wait their turn."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from grievance.services import stripping
from grievance.services.attachments import UploadRefused, check_file
from tests.unit.test_attachment_checks import _png_header_only

ROOT = Path(__file__).resolve().parents[2]


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
