"""The metadata of a complainant's files is removed before anything is kept (DESIGN
invariant 1): a phone writes where a photo was taken and its serial number, a word
processor writes its user's name into a PDF's Author field, a recorder names a voice memo
after the street it was made in.

- Pictures are decoded and encoded again from their pixels alone, turned upright. A
  picture over `MAX_PIXELS` is refused from its header, before any pixel is decoded, and
  at most `MAX_CONCURRENT_DECODES` pictures or PDFs are rewritten at once in a process,
  so that a few requests with five large pictures each cannot exhaust a worker's memory.
- PDF documents lose their document information (/Info: Author, Creator, Producer,
  Title, Subject, Keywords, dates), every XMP metadata stream (the catalog's and those of
  pages, images and fonts), private application data and the names of the authors of
  comments; they are written again whole, so no older revision of an edited document
  survives, and with a new /ID.
- Recordings lose their tags: ID3 (v1 and v2) and APEv2 in MP3 (and raw AAC), Vorbis
  comments in Ogg (Opus, Vorbis, Speex, FLAC), the iTunes atoms and every other
  user-data atom in M4A; a WAV file keeps its format, fact and data chunks and nothing
  else (LIST/INFO, bext, iXML, ID3 ...). AMR files carry no metadata and are kept as
  they are.

A file that cannot be parsed is refused as unreadable: what cannot be read cannot be
cleaned.
"""

from __future__ import annotations

import io
import struct
import threading
import warnings
from collections.abc import Iterator

import mutagen
import mutagen.apev2
import mutagen.id3
import pikepdf
import pikepdf.settings
from mutagen.aac import AAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.ogg import OggPage
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from pikepdf import Name
from PIL import ExifTags, Image, UnidentifiedImageError

#: A picture with more pixels than this is refused, from its header (a 20 MP picture is
#: 80 MB once decoded; a 7,070 x 7,070 PNG of 190 KB would be 200 MB).
MAX_PIXELS = 20_000_000
#: Pictures and PDFs rewritten at once in one process (a web worker and its threads);
#: others wait their turn. A worker so holds the pixels of at most this many pictures:
#: about 80 MB each at the limit, twice that for a moment while one is turned upright,
#: four times for a WebP (its library decodes and encodes through buffers of its own).
MAX_CONCURRENT_DECODES = 2
#: The most memory qpdf spends inflating one compressed stream of a PDF (a zip bomb
#: hidden in an object stream); streams are otherwise copied without being decoded.
PDF_STREAM_MEMORY = 64 * 1024 * 1024

# Pillow warns about pictures over MAX_IMAGE_PIXELS and refuses those over twice that.
# Every picture it warns about is one we refuse, from its header: the warning is an error.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
# Process-wide, set once before any thread opens a PDF.
pikepdf.settings.set_qpdf_limits(
    flate_max_memory=PDF_STREAM_MEMORY,
    png_max_memory=PDF_STREAM_MEMORY,
    tiff_max_memory=PDF_STREAM_MEMORY,
    run_length_max_memory=PDF_STREAM_MEMORY,
    dct_max_memory=PDF_STREAM_MEMORY,
)

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


# -- documents ------------------------------------------------------------------------
#: Annotations whose /T is the name of the person who wrote them (PDF 2.0, 12.5.6.2);
#: a form field's /T is its name and stays.
_MARKUP = frozenset(
    Name(f"/{kind}")
    for kind in (  # noqa: SIM905
        "Text FreeText Line Square Circle Polygon PolyLine Highlight Underline Squiggly "
        "StrikeOut Caret Stamp Ink FileAttachment Sound Redact Projection"
    ).split()
)


def strip_pdf(data: bytes) -> bytes:
    """Write a PDF again without its document information, XMP metadata, private
    application data and comment authors; its streams are copied, not decoded."""
    try:
        with _DECODES, pikepdf.open(io.BytesIO(data)) as pdf:
            for key in (Name.Info, Name.ID):
                if key in pdf.trailer:
                    del pdf.trailer[key]
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    _forget(obj)
            out = io.BytesIO()
            pdf.save(
                out,
                fix_metadata_version=False,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                encryption=False,
                deterministic_id=True,
            )
            return out.getvalue()
    except (pikepdf.PikepdfError, ValueError, TypeError, RuntimeError):
        raise NotStripped("unreadable") from None


def _forget(obj: pikepdf.Dictionary | pikepdf.Stream) -> None:
    for key in (Name.Metadata, Name.PieceInfo):
        if key in obj:
            del obj[key]
    subtype = obj.get(Name.Subtype)
    if isinstance(subtype, Name) and subtype in _MARKUP and Name.T in obj:
        del obj[Name.T]


# -- recordings -----------------------------------------------------------------------
def strip_mp3(data: bytes) -> bytes:
    """An MP3 recording without its ID3 (v1, v2) and APEv2 tags. The raw AAC (ADTS) a
    voice recorder may write looks like MPEG audio to `sniff` and is taken too."""
    file = io.BytesIO(data)
    try:
        try:
            MP3(file)  # MPEG audio frames, or an error
        except mutagen.MutagenError:
            file.seek(0)
            AAC(file)
        size = -1
        while size != file.seek(0, io.SEEK_END):  # ID3v1 after an APE tag, or before it
            size = file.tell()
            mutagen.id3.delete(file)
            mutagen.apev2.delete(file)
    except (mutagen.MutagenError, OSError, ValueError, struct.error):
        raise NotStripped("unreadable") from None
    return file.getvalue()


def strip_ogg(data: bytes) -> bytes:
    """An Ogg recording (Opus, Vorbis, Speex or FLAC) without its Vorbis comments. A file
    of several logical streams (chained recordings, each with its own comments) is
    refused: only the first stream's comments would be removed."""
    file = io.BytesIO(data)
    try:
        serials = set()
        while file.tell() < len(data):
            serials.add(OggPage(file).serial)
        if len(serials) != 1:
            raise NotStripped("unreadable")
        file.seek(0)
        audio = mutagen.File(file, options=[OggOpus, OggVorbis, OggSpeex, OggFLAC])
        if audio is None:
            raise NotStripped("unreadable")
        file.seek(0)
        audio.delete(file)
    except (mutagen.MutagenError, OSError, ValueError, EOFError, struct.error):
        raise NotStripped("unreadable") from None
    return file.getvalue()


#: Atoms of an MP4 file that hold what a person or a program wrote about the recording,
#: never the sound: user data, metadata (iTunes ilst, QuickTime keys), XMP in uuid atoms.
_USER_DATA_ATOMS = frozenset({b"udta", b"meta", b"uuid", b"XMP_"})


def strip_m4a(data: bytes) -> bytes:
    """An M4A recording without its tags: mutagen removes the iTunes atoms (title,
    artist, dates ...), then every other user-data atom of the file, the movie and its
    tracks (a location in ©xyz, XMP) becomes free space, its bytes zeroed, so no offset
    into the sound moves."""
    file = io.BytesIO(data)
    try:
        MP4(file).delete(file)
    except (mutagen.MutagenError, OSError, ValueError, struct.error):
        raise NotStripped("unreadable") from None
    cleaned = bytearray(file.getvalue())
    for start, end, kind, body in _atoms(cleaned, 0, len(cleaned)):
        if kind in _USER_DATA_ATOMS:
            _free(cleaned, start, body, end)
        elif kind == b"moov":
            for start2, end2, kind2, body2 in _atoms(cleaned, body, end):
                if kind2 in _USER_DATA_ATOMS:
                    _free(cleaned, start2, body2, end2)
                elif kind2 == b"trak":
                    for start3, end3, kind3, body3 in _atoms(cleaned, body2, end2):
                        if kind3 in _USER_DATA_ATOMS:
                            _free(cleaned, start3, body3, end3)
    return bytes(cleaned)


def _atoms(data: bytearray, start: int, end: int) -> Iterator[tuple[int, int, bytes, int]]:
    """The atoms between `start` and `end`: (start, end, kind, where the body starts)."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        body = position + 8
        if size == 1:
            if body + 8 > end:
                raise NotStripped("unreadable")
            (size,) = struct.unpack_from(">Q", data, body)
            body += 8
        elif size == 0:
            size = end - position
        if size < body - position or position + size > end:
            raise NotStripped("unreadable")
        yield position, position + size, kind, body
        position += size


def _free(data: bytearray, start: int, body: int, end: int) -> None:
    data[start + 4 : start + 8] = b"free"
    data[body:end] = bytes(end - body)


#: The chunks of a WAV file that make its sound; every other chunk is left out.
_WAV_CHUNKS = frozenset({b"fmt ", b"fact", b"data"})


def strip_wav(data: bytes) -> bytes:
    """A WAV file rebuilt from its format, fact and data chunks alone (no LIST/INFO,
    bext, iXML, cart, ID3 ...). A data chunk that claims more than the file holds (a
    recording cut short) keeps what there is."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise NotStripped("unreadable")
    kept: list[bytes] = []
    kinds: set[bytes] = set()
    position = 12
    while position + 8 <= len(data):
        kind, size = struct.unpack_from("<4sI", data, position)
        body = position + 8
        if kind == b"data":
            size = min(size, len(data) - body)
        if body + size > len(data):
            raise NotStripped("unreadable")
        if kind in _WAV_CHUNKS:
            content = data[body : body + size]
            kept.append(struct.pack("<4sI", kind, size) + content + b"\0" * (size & 1))
            kinds.add(kind)
        position = body + size + (size & 1)
    if not {b"fmt ", b"data"} <= kinds:
        raise NotStripped("unreadable")
    wave = b"WAVE" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(wave)) + wave
