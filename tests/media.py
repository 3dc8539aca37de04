"""Small, valid files of every accepted kind, built in the test (no fixtures on disk), some
carrying a canary in every place their format keeps metadata."""

from __future__ import annotations

import io
import os
import struct
import wave

import pikepdf
from mutagen.apev2 import APEv2
from mutagen.id3 import ID3, TIT2, TPE1, TXXX
from mutagen.mp4 import MP4
from mutagen.ogg import OggPage
from mutagen.oggopus import OggOpus
from mutagen.wave import WAVE


# -- documents --------------------------------------------------------------------------
def pdf_document(text: str = "payslip of March, line 4", padding: int = 0) -> bytes:
    """A one-page PDF that says `text`, with no metadata, as the checks write it: it comes
    out of them as it went in. `padding` random bytes in a picture make it larger."""
    from grievance.services.stripping import strip_pdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    page = pdf.pages[0]
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 10 Tf 10 50 Td ({text}) Tj ET".encode())
    if padding:
        noise = os.urandom(padding)
        picture = pdf.make_stream(noise)
        picture.Type, picture.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        picture.Width, picture.Height, picture.BitsPerComponent = padding, 1, 8
        picture.ColorSpace = pikepdf.Name.DeviceGray
        page.Resources.XObject = pikepdf.Dictionary(Noise=picture)
    out = io.BytesIO()
    pdf.save(out)
    return strip_pdf(out.getvalue())


def pdf_with_metadata(canary: str) -> bytes:
    """A PDF naming `canary` in its document information, its XMP metadata (catalog and
    page), private application data, a comment's author, and in an older revision."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    info = {"/Author", "/Creator", "/Producer", "/Title", "/Subject", "/Keywords"}
    for key in sorted(info):
        pdf.docinfo[key] = f"{key[1:]}: {canary}"
    pdf.docinfo["/CreationDate"] = "D:20260301093000+06'00'"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [canary]
        meta["dc:title"] = f"Statement of {canary}"
        meta["xmp:CreatorTool"] = f"Word ({canary})"
    page = pdf.pages[0].obj
    page.Metadata = pdf.make_stream(f"<x:xmpmeta>{canary}</x:xmpmeta>".encode())
    page.PieceInfo = pikepdf.Dictionary(Word=pikepdf.Dictionary(Private=pikepdf.String(canary)))
    comment = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[10, 10, 30, 30],
        T=pikepdf.String(canary),
        Contents=pikepdf.String("see the date"),
    )
    page.Annots = pdf.make_indirect([pdf.make_indirect(comment)])
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return _with_older_revision(out.getvalue(), canary)


def _with_older_revision(data: bytes, canary: str) -> bytes:
    """The same PDF edited once (an incremental update, as Acrobat saves): a new,
    harmless /Info replaces the old one, which stays in the file, unreferenced."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        size, root = int(pdf.trailer.Size), pdf.Root.objgen[0]
    previous = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    new_info = f"{size} 0 obj\n<< /Title (edited) >>\nendobj\n".encode()
    offset = len(data)
    xref = len(data) + len(new_info)
    update = (
        new_info
        + f"xref\n{size} 1\n{offset:010d} 00000 n \n".encode()
        + f"trailer\n<< /Size {size + 1} /Root {root} 0 R /Info {size} 0 R ".encode()
        + f"/Prev {previous} >>\n".encode()
        + f"startxref\n{xref}\n%%EOF\n".encode()
    )
    assert canary.encode() in data
    return data + update


# -- recordings -------------------------------------------------------------------------
def _mpeg_frames(count: int = 20) -> bytes:
    """MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz, of silence."""
    frame = b"\xff\xfb\x90\x00" + bytes(417 - 4)
    return frame * count


def adts_frames(count: int = 20) -> bytes:
    """Raw AAC (ADTS) frames, as some voice recorders save them (.aac): LC, 44.1 kHz."""
    length = 200
    header = bytes(
        [
            0xFF,
            0xF1,
            0x50,
            0x80 | (length >> 11),
            (length >> 3) & 0xFF,
            (length & 7) << 5 | 0x1F,
            0xFC,
        ]
    )
    return (header + bytes(length - len(header))) * count


def mp3_with_tags(canary: str, sound: bytes | None = None) -> bytes:
    """An MP3 (or other `sound`) naming `canary` in ID3v2, ID3v1 and APEv2 tags."""
    file = io.BytesIO(_mpeg_frames() if sound is None else sound)
    tags = ID3()
    tags.add(TPE1(encoding=3, text=[canary]))
    tags.add(TIT2(encoding=3, text=[f"{canary} at the gate"]))
    tags.add(TXXX(encoding=3, desc="phone", text=[canary]))
    tags.save(file, v1=2)
    ape = APEv2()
    ape["Artist"] = canary
    ape.save(file)
    return file.getvalue()


def _ogg_page(serial: int, sequence: int, position: int, packets: list[bytes], flags: int) -> bytes:
    page = OggPage()
    page.serial, page.sequence, page.position, page.packets = serial, sequence, position, packets
    page.first, page.last = bool(flags & 2), bool(flags & 4)
    return page.write()


def ogg_opus(serial: int = 1, tags: dict[str, str] | None = None) -> bytes:
    """A short Ogg Opus recording (its packets are silent Opus frames)."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    vendor = b"libopus 1.4"
    comments = [f"{key}={value}".encode() for key, value in (tags or {}).items()]
    opus_tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor
    opus_tags += struct.pack("<I", len(comments))
    opus_tags += b"".join(struct.pack("<I", len(c)) + c for c in comments)
    silence = [b"\xf8\xff\xfe"] * 50
    return b"".join(
        [
            _ogg_page(serial, 0, 0, [head], 2),
            _ogg_page(serial, 1, 0, [opus_tags], 0),
            _ogg_page(serial, 2, 48000, silence, 4),
        ]
    )


def ogg_with_tags(canary: str) -> bytes:
    """An Ogg Opus recording naming `canary` in its Vorbis comments, written by mutagen."""
    file = io.BytesIO(ogg_opus())
    audio = OggOpus(file)
    audio["artist"] = [canary]
    audio["location"] = [f"{canary}'s house"]
    file.seek(0)
    audio.save(file)
    return file.getvalue()


def _atom(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, *parts: bytes, flags: int = 0) -> bytes:
    return _atom(kind, struct.pack(">I", flags), *parts)


M4A_SOUND = bytes(range(256)) * 4


def m4a_audio(user_data: bytes = b"") -> bytes:
    """An M4A file: one AAC track of one sample (`M4A_SOUND`), its media data after the
    movie box so that every change of the movie's size moves the sound's offset."""
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _full(
        b"mvhd",
        struct.pack(">5IH10x", 0, 0, 1000, 23, 0x10000, 0x100),
        matrix,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = _full(
        b"tkhd", struct.pack(">5I8xHHH2x", 0, 0, 1, 0, 23, 0, 0, 0x100), matrix, bytes(8), flags=7
    )
    mdhd = _full(b"mdhd", struct.pack(">4IHH", 0, 0, 44100, 1024, 0x55C4, 0))
    hdlr = _full(b"hdlr", bytes(4), b"soun", bytes(12), b"SoundHandler\0")
    esds = _full(
        b"esds",
        b"\x03\x19\x00\x01\x00\x04\x11\x40\x15" + bytes(11) + b"\x05\x02\x12\x10\x06\x01\x02",
    )
    mp4a = _atom(b"mp4a", bytes(6), struct.pack(">H8xHH4xI", 1, 1, 16, 44100 << 16), esds)
    stsd = _full(b"stsd", struct.pack(">I", 1), mp4a)

    def moov(offset: int) -> bytes:
        stbl = _atom(
            b"stbl",
            stsd,
            _full(b"stts", struct.pack(">3I", 1, 1, 1024)),
            _full(b"stsc", struct.pack(">4I", 1, 1, 1, 1)),
            _full(b"stsz", struct.pack(">3I", 0, 1, len(M4A_SOUND))),
            _full(b"stco", struct.pack(">2I", 1, offset)),
        )
        dinf = _atom(b"dinf", _full(b"dref", struct.pack(">I", 1), _full(b"url ", flags=1)))
        minf = _atom(b"minf", _full(b"smhd", bytes(4)), dinf, stbl)
        trak = _atom(b"trak", tkhd, _atom(b"mdia", mdhd, hdlr, minf))
        return _atom(b"moov", mvhd, trak, user_data)

    ftyp = _atom(b"ftyp", b"M4A ", bytes(4), b"M4A mp42isom")
    offset = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(offset) + _atom(b"mdat", M4A_SOUND)


def m4a_with_tags(canary: str) -> bytes:
    """An M4A naming `canary` in iTunes atoms (title, artist) written by mutagen and in a
    QuickTime location atom (©xyz) of the movie's user data."""
    location = f"+23.8103+090.4125/{canary}".encode()
    xyz = _atom(b"\xa9xyz", struct.pack(">HH", len(location), 0x15C7), location)
    file = io.BytesIO(m4a_audio(_atom(b"udta", xyz)))
    audio = MP4(file)
    audio.add_tags()
    assert audio.tags is not None
    audio.tags["\xa9nam"] = [f"Recording at {canary}"]
    audio.tags["\xa9ART"] = [canary]
    file.seek(0)
    audio.save(file)
    return file.getvalue()


def m4a_sound(data: bytes) -> bytes:
    """The sound of an M4A file built by `m4a_audio`, found through its chunk offset."""
    audio = MP4(io.BytesIO(data))
    assert audio.info.length > 0
    stco = data.index(b"stco")
    (offset,) = struct.unpack_from(">I", data, stco + 12)
    return data[offset : offset + len(M4A_SOUND)]


def wav_audio() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(8000)
        recording.writeframes(struct.pack("<800h", *range(-400, 400)))
    return out.getvalue()


def wav_with_tags(canary: str) -> bytes:
    """A WAV naming `canary` in a LIST/INFO chunk (artist, comment), a broadcast-wave
    bext chunk and an ID3 chunk written by mutagen."""
    data = wav_audio()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)

    name = canary.encode() + b"\0"
    info = chunk(b"LIST", b"INFO" + chunk(b"IART", name) + chunk(b"ICMT", b"recorded by " + name))
    bext = chunk(b"bext", name.ljust(256, b"\0") + bytes(346))
    body = data[12:] + info + bext
    file = io.BytesIO(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    audio = WAVE(file)
    audio.add_tags()
    assert audio.tags is not None
    audio.tags.add(TPE1(encoding=3, text=[canary]))
    file.seek(0)
    audio.save(file)
    return file.getvalue()


AMR = b"#!AMR\n" + b"\x3c" + bytes(31)
