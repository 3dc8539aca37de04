"""Benchmark of the checks of a complainant's files: time and memory of each kind.

    make bench                              # or: .venv/bin/python bench/attachments.py

Each file is checked in a fresh process, which prints the seconds `check_file` took and
the most memory the process held above what it held before (its peak resident set,
reset just before the check, minus the resident set then). The files are generated
here: the decompression bomb of the security review (a PNG of 7,070 x 7,070 pixels in
160 KB), pictures of 19 megapixels (just under the limit) as JPEG, JPEG turned by its
EXIF orientation, PNG and WebP, and a PDF of 2 MB. Linux only (/proc/self/status).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 5300, 3580  # 18.97 megapixels

MEASURE = """
import sys, time
from grievance.services.attachments import UploadRefused, check_file
data = open(sys.argv[1], "rb").read()
def status(field):
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith(field + ":")).split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as clear_refs:
    clear_refs.write("5")  # the peak starts again from here
before = status("VmRSS")
started = time.perf_counter()
try:
    outcome = f"kept, {len(check_file(sys.argv[1], data).data) // 1024} KB"
except UploadRefused as refused:
    outcome = f"refused: {refused.reason}"
seconds = time.perf_counter() - started
print(f"{seconds:.2f} s, {(status('VmHWM') - before) / 2**20:.0f} MB, {outcome}")
"""


def files(folder: Path) -> list[Path]:
    bomb = folder / "bomb-7070x7070.png"
    Image.new("RGB", (7070, 7070), "white").save(bomb, "PNG", optimize=True)
    picture = Image.linear_gradient("L").resize((WIDTH, HEIGHT)).convert("RGB")
    turned = Image.Exif()
    turned[0x0112] = 6
    made = [bomb]
    for name, options in [
        ("photo-19mp.jpg", {"quality": 90}),
        ("photo-19mp-turned.jpg", {"quality": 90, "exif": turned}),
        ("screen-19mp.png", {}),
        ("photo-19mp.webp", {"quality": 90}),
    ]:
        made.append(folder / name)
        picture.save(made[-1], **options)
    sys.path.insert(0, str(ROOT))
    from tests.media import pdf_document

    made.append(folder / "document-2mb.pdf")
    made[-1].write_bytes(pdf_document(padding=2_000_000))
    return made


def main() -> None:
    decoded = WIDTH * HEIGHT * 4 / 2**20
    print(f"pictures of {WIDTH} x {HEIGHT}: {decoded:.0f} MB once decoded by Pillow")
    with tempfile.TemporaryDirectory() as folder:
        for path in files(Path(folder)):
            done = subprocess.run(  # noqa: S603 - this interpreter, our own script
                [sys.executable, "-c", MEASURE, str(path)],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                capture_output=True,
                text=True,
                check=True,
            )
            size = len(path.read_bytes()) // 1024
            print(f"{path.name:24} {size:6} KB   {done.stdout.strip()}")


if __name__ == "__main__":
    main()
