"""The WAV ``LIST/INFO`` ``IGNR`` sub-chunk (a genre some programs write
besides the ID3 chunk), read and edited in place with mutagen's chunk
helpers: chunk sizes, the pad byte of odd-sized chunks and the RIFF size stay
right. Works on an open binary file object."""

from __future__ import annotations

from .._mutagen import InvalidChunk, RiffFile
from .id3 import RawTagError


def _info_list(riff):
    for chunk in riff.root.subchunks():
        if chunk.id == "LIST" and getattr(chunk, "name", None) == "INFO":
            return chunk
    return None


def _ignr(info):
    if info is None:
        return None
    for chunk in info.subchunks():
        if chunk.id == "IGNR":
            return chunk
    return None


def _riff(fileobj):
    fileobj.seek(0)
    try:
        return RiffFile(fileobj)
    except InvalidChunk as e:
        raise RawTagError(f"broken chunk structure: {e}") from e


def read_ignr(fileobj) -> bytes | None:
    """The raw data of the WAV's ``LIST/INFO`` ``IGNR`` sub-chunk; None if absent."""
    chunk = _ignr(_info_list(_riff(fileobj)))
    return None if chunk is None else chunk.read()


def write_ignr(fileobj, data: bytes | None) -> None:
    """Set (None: remove) the ``IGNR`` sub-chunk; sizes and pad byte kept right.

    Added at the end of an existing ``LIST/INFO``; a file without one is left
    alone (tagger's WAV genre field is the ID3 chunk).
    """
    info = _info_list(_riff(fileobj))
    chunk = _ignr(info)
    if data is None:
        if chunk is not None:
            chunk.delete()
    elif chunk is not None:
        chunk.resize(len(data))
        chunk.write(data)
    elif info is not None:
        info.insert_chunk("IGNR", data)


def ignr_genres(data: bytes) -> list[str]:
    """The genres an ``IGNR`` value names: NUL-terminated text, ";"-separated."""
    text = data.split(b"\0", 1)[0]
    try:
        value = text.decode("utf-8")
    except UnicodeDecodeError:
        value = text.decode("latin-1")
    return [g.strip() for g in value.split(";") if g.strip()]


def ignr_value(genres: list[str]) -> bytes:
    """``IGNR`` data for ``genres``: UTF-8 (what ffmpeg writes), "; "-joined, NUL-terminated."""
    return "; ".join(genres).encode("utf-8") + b"\0"
