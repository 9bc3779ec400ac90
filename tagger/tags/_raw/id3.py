"""Byte-level genre edits where mutagen would rewrite a whole tag block.

mutagen parses every ID3 frame and writes them all back as v2.3 or v2.4: a
v2.3 tag saved through it loses ``RVAD``, ``EQUA``, ``TRDA``, ``TSIZ`` and
unknown frames, converts ``TYER``/``TDAT``/``TIME``, ``TORY`` and ``IPLS``,
merges duplicate frames, drops empty ones, joins multi-value frames with "/"
and can empty a ``GEOB`` with a UTF-16 description; it cannot write v2.2 at
all. So tagger keeps an ID3v2 tag as a list of raw frames, replaces only the
genre frames (``TCON``, ``TCO`` in v2.2) and writes the tag back in its own
version with every other frame byte for byte as it was (tag-level
unsynchronisation is undone and redone around the edit).

Also here: the ID3v1 genre byte (the other 127 bytes are left alone) and the
ID3 chunk of WAV and AIFF files, moved with mutagen's chunk helpers (chunk
sizes, the pad byte of odd-sized chunks and the RIFF size are kept right).
The same byte-level care for APE tags is in ape.py, for the WAV
``LIST/INFO`` ``IGNR`` sub-chunk in riff.py.

Everything works on an open binary file object, edited in place.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, replace

from mutagen.id3 import TCON, Frames

from .._mutagen import (AIFFFile, BitPaddedInt, InvalidChunk, RiffFile, delete_bytes,
                        determine_bpi, resize_bytes, unsynch)
from ..entries import genre_entries, replaced, restored

ID3V1_SIZE = 128  # bytes: "TAG" + fields, at the very end of an MP3
ID3V1_NO_GENRE = 255
HEADER_SIZE = 10  # bytes of an ID3v2 header (and of a v2.4 footer)
GROWTH_PADDING = 1024  # bytes of padding added when a tag has to grow
V23_SEPARATOR = "/"  # one string per text frame before v2.4: values joined

_UNSYNC, _EXTENDED, _FOOTER = 0x80, 0x40, 0x10  # header flags
_FRAME_ID = {2: re.compile(rb"[A-Z0-9]{3}\Z"), 3: re.compile(rb"[A-Z0-9]{4}\Z"),
             4: re.compile(rb"[A-Z0-9]{4}\Z")}
_GENRE_ID = {2: b"TCO", 3: b"TCON", 4: b"TCON"}
_FRAME_UNSYNC = 0x0002  # v2.4 frame format flag


class RawTagError(ValueError):
    """A tag block tagger cannot edit without risking its other content."""


@dataclass(frozen=True)
class ID3Tag:
    """An ID3v2 tag as stored: header fields and the frames as raw bytes.

    ``frames`` are whole frames (header + data), after undoing tag-level
    unsynchronisation (v2.2/v2.3); ``rest`` holds bytes after the last frame
    that are not zero padding, written back as they were.
    """

    major: int  # 2, 3 or 4
    revision: int
    flags: int
    extended: bytes  # the extended header as stored, b"" without one
    frames: tuple[bytes, ...]
    rest: bytes = b""

    def is_genre(self, frame: bytes) -> bool:
        return frame[:len(_GENRE_ID[self.major])] == _GENRE_ID[self.major]

    def genre_frames(self) -> list[tuple[int, bytes]]:
        """(index among all frames, raw frame) of every genre frame, in order."""
        return genre_entries(self.frames, self.is_genre)

    def with_genres(self, genres: list[str]) -> ID3Tag:
        """The tag with its genre frames replaced by one holding ``genres``.

        The new frame takes the place of the first old one (or goes last);
        an empty list removes every genre frame. Other frames are untouched.
        """
        new = [self._genre_frame(genres)] if genres else []
        return replace(self, frames=tuple(replaced(self.frames, self.is_genre, new)))

    def with_genre_frames(self, saved: list[tuple[int, bytes]]) -> ID3Tag:
        """The tag with its genre frames replaced by ``saved`` (from
        ``genre_frames``), each back at its index."""
        return replace(self, frames=tuple(restored(self.frames, self.is_genre, saved)))

    def _genre_frame(self, genres: list[str]) -> bytes:
        if self.major == 4:  # UTF-8, values separated by NUL
            encoding, text = 3, "\0".join(genres).encode("utf-8")
        else:  # Latin-1 when it fits, else UTF-16 with BOM; one joined string
            joined = V23_SEPARATOR.join(genres)
            try:
                encoding, text = 0, joined.encode("latin-1")
            except UnicodeEncodeError:
                encoding, text = 1, joined.encode("utf-16")
        data = bytes([encoding]) + text
        if self.major == 2:
            return _GENRE_ID[2] + len(data).to_bytes(3, "big") + data
        if self.major == 3:
            return _GENRE_ID[3] + struct.pack(">LH", len(data), 0) + data
        flags = 0
        if self.flags & _UNSYNC:  # every v2.4 frame says it is unsynchronised
            data, flags = unsynch.encode(data), _FRAME_UNSYNC
        return _GENRE_ID[4] + BitPaddedInt.to_str(len(data), width=4) + struct.pack(
            ">H", flags) + data

    def render(self, old_size: int = 0) -> bytes:
        """The whole tag as bytes: at least ``old_size`` long (the rest zero
        padding), or the frames plus ``GROWTH_PADDING`` when they no longer
        fit; a tag with a footer gets no padding, as the standard says."""
        body = b"".join(self.frames) + self.rest
        if self.major < 4 and self.flags & _UNSYNC:
            body = unsynch.encode(body)
        flags, extended = self.flags, self.extended
        if extended and _has_crc(self.major, extended):
            flags, extended = flags & ~_EXTENDED, b""  # a CRC of the old frames
        needed = HEADER_SIZE + len(extended) + len(body)
        footer = self.major == 4 and flags & _FOOTER
        if footer:
            size = needed
        elif needed <= old_size:
            size = old_size
        else:
            size = needed + GROWTH_PADDING
        padding = size - needed
        if extended and self.major == 3:  # v2.3 records its padding size
            extended = extended[:6] + struct.pack(">L", padding) + extended[10:]
        header = struct.pack(">3sBBB", b"ID3", self.major, self.revision, flags)
        size_field = BitPaddedInt.to_str(size - HEADER_SIZE, width=4)
        data = header + size_field + extended + body + bytes(padding)
        if footer:
            data += b"3DI" + header[3:] + size_field
        return data


def new_tag(major: int) -> ID3Tag:
    """An empty ID3v2.``major`` tag (3 or 4)."""
    return ID3Tag(major, 0, 0, b"", ())


def parse_tag(data: bytes) -> ID3Tag:
    """Split a whole ID3v2 tag (``data`` starts with its header) into frames."""
    magic, major, revision, flags = struct.unpack(">3sBBB", data[:6])
    if magic != b"ID3" or major not in (2, 3, 4):
        raise RawTagError(f"not an ID3v2.2-2.4 tag ({data[:5]!r})")
    end = HEADER_SIZE + BitPaddedInt(data[6:10])
    pos = HEADER_SIZE
    extended = b""
    if flags & _EXTENDED and major > 2:
        if data[pos:pos + 4] in _FRAME_IDS:  # flag set, header missing
            flags &= ~_EXTENDED
        else:
            raw = data[pos:pos + 4]
            length = BitPaddedInt(raw) if major == 4 else 4 + struct.unpack(">L", raw)[0]
            extended = data[pos:pos + length]
            pos += length
    body = data[pos:end]
    if major < 4 and flags & _UNSYNC:
        try:
            body = unsynch.decode(body)
        except ValueError as e:
            raise RawTagError(f"broken unsynchronisation: {e}") from e
    frames, rest = _split_frames(major, body)
    return ID3Tag(major, revision, flags, extended, tuple(frames), rest)


def _split_frames(major: int, body: bytes) -> tuple[list[bytes], bytes]:
    header_size = 6 if major == 2 else HEADER_SIZE
    bpi = determine_bpi(body, Frames) if major == 4 else int
    frames, pos = [], 0
    while pos + header_size <= len(body):
        header = body[pos:pos + header_size]
        if major == 2:
            name, size = header[:3], int.from_bytes(header[3:6], "big")
        else:
            name, size = header[:4], bpi(struct.unpack(">L", header[4:8])[0])
        end = pos + header_size + size
        if not _FRAME_ID[major].match(name) or end > len(body):
            break  # padding, or bytes that are not a frame: kept as they are
        frames.append(body[pos:end])
        pos = end
    rest = body[pos:]
    return frames, (b"" if not rest.strip(b"\0") else rest)


_FRAME_IDS = frozenset(name.encode("ascii") for name in Frames)


def _has_crc(major: int, extended: bytes) -> bool:
    if major == 3:
        return len(extended) >= 6 and bool(extended[4] & 0x80)
    return len(extended) >= 6 and bool(extended[5] & 0x20)


def tag_size(data: bytes) -> int:
    """Bytes a tag occupies, from its first ten bytes (footer included)."""
    size = HEADER_SIZE + BitPaddedInt(data[6:10])
    if data[3] == 4 and data[5] & _FOOTER:
        size += HEADER_SIZE
    return size


# --- where the ID3v2 tag lives: the start of an MP3, a chunk of WAV/AIFF ---

class ID3Location:
    """Reads and replaces the ID3v2 tag of one open file.

    ``container``: "mp3" (tag at offset 0), "wav" (an ``id3 `` or ``ID3 ``
    RIFF chunk) or "aiff" (an ``ID3 `` chunk in the FORM).
    """

    def __init__(self, fileobj, container: str):
        self.f = fileobj
        self.container = container

    def read(self) -> ID3Tag | None:
        data = self._read_bytes()
        return None if data is None else parse_tag(data)

    def _read_bytes(self) -> bytes | None:
        if self.container == "mp3":
            self.f.seek(0)
            head = self.f.read(HEADER_SIZE)
            if len(head) < HEADER_SIZE or head[:3] != b"ID3":
                return None
            self.f.seek(0)
            return self.f.read(tag_size(head))
        chunk = self._chunk()
        if chunk is None:
            return None
        data = chunk.read()
        return data if data[:3] == b"ID3" else None

    def write(self, tag: ID3Tag | None) -> None:
        """Put ``tag`` in place of the file's tag; None removes the tag
        (in WAV/AIFF the whole chunk, so nothing is left behind)."""
        if self.container == "mp3":
            old = self._read_bytes()
            old_size = 0 if old is None else tag_size(old)
            if tag is None:
                if old_size:
                    delete_bytes(self.f, old_size, 0)
                return
            data = tag.render(old_size)
            resize_bytes(self.f, old_size, len(data), 0)
            self.f.seek(0)
            self.f.write(data)
            return
        chunk = self._chunk()
        if tag is None:
            if chunk is not None:
                chunk.delete()
            return
        data = tag.render(chunk.data_size if chunk is not None else 0)
        if chunk is None:
            chunk = self._container().insert_chunk("id3" if self.container == "wav" else "ID3")
        chunk.resize(len(data))
        chunk.write(data)

    def _container(self):
        self.f.seek(0)
        try:
            return RiffFile(self.f) if self.container == "wav" else AIFFFile(self.f)
        except InvalidChunk as e:
            raise RawTagError(f"broken chunk structure: {e}") from e

    def _chunk(self):
        container = self._container()
        for chunk in container.root.subchunks():
            if chunk.id in ("id3", "ID3"):
                return chunk
        return None


# --- ID3v1: only its genre byte ---

def read_v1_genre(fileobj) -> int | None:
    """The ID3v1 genre byte at the end of the file; None without an ID3v1 tag."""
    fileobj.seek(0, 2)
    if fileobj.tell() < ID3V1_SIZE:
        return None
    fileobj.seek(-ID3V1_SIZE, 2)
    data = fileobj.read(ID3V1_SIZE)
    return data[-1] if data[:3] == b"TAG" else None


def write_v1_genre(fileobj, number: int) -> None:
    """Set the genre byte of the file's ID3v1 tag (it must have one)."""
    fileobj.seek(-1, 2)
    fileobj.write(bytes([number]))


def v1_number(genres: list[str]) -> int | None:
    """The ID3v1 number of the first genre that has one (case-insensitive)."""
    numbers = {name.lower(): i for i, name in enumerate(TCON.GENRES)}
    for genre in genres:
        if genre.lower() in numbers:
            return numbers[genre.lower()]
    return None
