"""APE tags (v2 and v1) edited as raw items.

mutagen's APEv2.save re-sorts the items by size, drops their flags, makes an
APEv1 tag v2, and cuts off an ID3v1 tag that follows the APE tag. Here the
tag is a list of raw items (size, flags, key, NUL, value) and only the genre
items change; the tag is written back where it was, in its own version. Works
on an open binary file object, edited in place.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

from .._mutagen import APEv2Data, resize_bytes
from ..entries import genre_entries, replaced, restored
from .id3 import ID3V1_SIZE, RawTagError, read_v1_genre


_APE_PREAMBLE = b"APETAGEX"
_APE_FOOTER_SIZE = 32  # bytes, as is the optional header
_APE_HAS_HEADER, _APE_IS_HEADER = 1 << 31, 1 << 29
_APE_KIND = {0: "text", 1: "binary", 2: "external"}


@dataclass(frozen=True)
class APETag:
    """An APE tag as stored: version, flags and raw items; ``start``/``end``
    are its byte range in the file (``start == end`` for a new tag)."""

    version: int  # 1000 (APEv1, no header) or 2000
    flags: int
    items: tuple[bytes, ...]
    start: int
    end: int

    def genre_items(self) -> list[tuple[int, bytes]]:
        """(index among all items, raw item) of every genre item, in order."""
        return genre_entries(self.items, _is_genre_item)

    def with_genre_items(self, saved: list[tuple[int, bytes]]) -> APETag:
        """The tag with its genre items replaced by ``saved`` (from
        ``genre_items``), each back at its index."""
        return replace(self, items=tuple(restored(self.items, _is_genre_item, saved)))

    def with_genres(self, genres: list[str], key: str = "Genre") -> APETag:
        """Genre items replaced by one text item (in the first one's place, or
        last); an empty list removes them."""
        new = []
        if genres:
            value = "\0".join(genres).encode("utf-8")
            new.append(struct.pack("<2I", len(value), 0) + key.encode("ascii") + b"\0" + value)
        return replace(self, items=tuple(replaced(self.items, _is_genre_item, new)))

    def render(self) -> bytes:
        body = b"".join(self.items)

        def block(flags: int) -> bytes:
            return _APE_PREAMBLE + struct.pack(
                "<4I", self.version, len(body) + _APE_FOOTER_SIZE, len(self.items),
                flags) + bytes(8)

        header = b""
        if self.flags & _APE_HAS_HEADER:
            header = block(self.flags | _APE_IS_HEADER)
        return header + body + block(self.flags & ~_APE_IS_HEADER)


def ape_item(item: bytes) -> tuple[str, str, bytes]:
    """(key, kind: "text"/"binary"/"external", value bytes) of a raw item."""
    size, flags = struct.unpack("<2I", item[:8])
    key_end = item.index(b"\0", 8)
    return (item[8:key_end].decode("ascii", "replace"),
            _APE_KIND.get((flags >> 1) & 3, "reserved"), item[key_end + 1:])


def _is_genre_item(item: bytes) -> bool:
    return ape_item(item)[0].lower() == "genre"


def read_ape(fileobj) -> APETag | None:
    """The file's APE tag (mutagen finds it: at the end, before an ID3v1 tag
    or Lyrics3, or at the start); None without one."""
    fileobj.seek(0)
    data = APEv2Data(fileobj)
    if data.tag is None:
        return None
    items, pos, raw = [], 0, data.tag
    for _ in range(data.items):
        if pos + 8 > len(raw):
            break
        size = struct.unpack("<I", raw[pos:pos + 4])[0]
        key_end = raw.find(b"\0", pos + 8)
        if key_end < 0 or key_end + 1 + size > len(raw):
            raise RawTagError("broken APE item")
        items.append(raw[pos:key_end + 1 + size])
        pos = key_end + 1 + size
    if raw[pos:].strip(b"\0"):
        raise RawTagError("APE tag holds bytes that are not items")
    version = struct.unpack("<I", data.version)[0]
    return APETag(version, data.flags, tuple(items), data.start, data.end)


def new_ape(fileobj) -> APETag:
    """An empty APEv2 tag (header and footer) placed at the end of the file,
    before an ID3v1 tag if there is one."""
    fileobj.seek(0, 2)
    at = fileobj.tell() - (ID3V1_SIZE if read_v1_genre(fileobj) is not None else 0)
    return APETag(2000, _APE_HAS_HEADER, (), at, at)


def write_ape(fileobj, tag: APETag | None, old: APETag) -> None:
    """Put ``tag`` where ``old`` is (None: remove the tag)."""
    data = b"" if tag is None else tag.render()
    resize_bytes(fileobj, old.end - old.start, len(data), old.start)
    fileobj.seek(old.start)
    fileobj.write(data)
