"""The metadata of a complainant's files is removed before anything is kept (DESIGN
invariant 1): a phone writes where a photo was taken and its serial number.

Pictures are decoded and encoded again from their pixels alone, turned upright. A
picture over `MAX_PIXELS` is refused from its header, before any pixel is decoded, and at
most `MAX_CONCURRENT_DECODES` pictures are rewritten at once in a process, so that a few
requests with five large pictures each cannot exhaust a worker's memory.
"""

from __future__ import annotations

import io
import threading
import warnings

from PIL import ExifTags, Image, UnidentifiedImageError

#: A picture with more pixels than this is refused, from its header (a 20 MP picture is
#: 80 MB once decoded; a 7,070 x 7,070 PNG of 190 KB would be 200 MB).
MAX_PIXELS = 20_000_000
#: Pictures rewritten at once in one process (a web worker and its threads);
#: others wait their turn. A worker so holds the pixels of at most this many pictures:
#: about 80 MB each at the limit, twice that for a moment while one is turned upright,
#: four times for a WebP (its library decodes and encodes through buffers of its own).
MAX_CONCURRENT_DECODES = 2

# Pillow warns about pictures over MAX_IMAGE_PIXELS and refuses those over twice that.
# Every picture it warns about is one we refuse, from its header: the warning is an error.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

_DECODES = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)


class NotStripped(Exception):
    """A file whose metadata could not be removed. `reason` is "unreadable" or
    "too_many_pixels" (a picture larger than `MAX_PIXELS`)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


# -- pictures -------------------------------------------------------------------------
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def strip_picture(data: bytes, pillow_format: str) -> bytes:
    """Decode a picture (JPEG, PNG or WEBP) and encode its pixels again, turned the way
    the camera meant; its size is checked from the header before anything is decoded."""
    try:
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NotStripped("too_many_pixels")
            with _DECODES:
                return _redraw(image, pillow_format)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotStripped("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, EOFError):
        raise NotStripped("unreadable") from None


def _redraw(image: Image.Image, pillow_format: str) -> bytes:
    """One decoded copy at a time: each step lets go of the pixels it started from."""
    image.seek(0)  # the first frame of an animation
    image.load()
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if alpha and pillow_format != "JPEG" else "RGB"
    pixels = image
    if pixels.mode != mode:
        pixels = image.convert(mode)
        image.close()
    turn = _TURNS.get(orientation)
    if turn is not None:
        turned = pixels.transpose(turn)
        pixels.close()
        pixels = turned
    # A new image around the same pixels (no copy) with nothing of the file: no EXIF,
    # XMP, IPTC, ICC profile, comments or text chunks, which Pillow's writers would
    # otherwise carry over from the picture they read. `_new` is how Pillow itself makes
    # every derived image; the canary tests would notice if it carried anything over.
    bare = Image.Image()._new(pixels.im)
    out = io.BytesIO()
    if pillow_format == "JPEG":
        # No `optimize`: libjpeg would keep every coefficient of the picture in memory.
        bare.save(out, "JPEG", quality=90)
    elif pillow_format == "PNG":
        bare.save(out, "PNG", optimize=True)
    else:
        bare.save(out, "WEBP", quality=90)
    pixels.close()
    return out.getvalue()
