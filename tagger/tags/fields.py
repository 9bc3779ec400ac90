"""What a format's genre field is, and what every family of them shares.

A ``GenreField`` says where one format keeps its genres (``tags.GENRE_FIELDS``
has one per extension); its ``Family`` is the code that reads and edits that
way of storing them (``id3``, ``vorbis``, ``mp4``,
``asf``). A family knows, for the files of its formats, four things:

    values(audio, path, field)   every genre value the file holds, as text
                            (display), given the file opened (``open_audio``)
    state(path, field)      the genre fields exactly as stored: JSON-serialisable,
                            raw where the format has raw values (base64)
    write(path, field, genres, id3v23)   make the genre fields say ``genres``
    restore(path, field, state)          put back exactly what ``state`` holds

and touches nothing but the genre fields. Opening a file through mutagen is
here too: the one place its open errors become a TagError.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

import mutagen

from ..errors import TagError


@dataclass(frozen=True)
class Family:
    """One way of storing genres; see the module docstring."""

    name: str
    values: Callable[[object, os.PathLike, "GenreField"], list[str]]
    state: Callable[[os.PathLike, "GenreField"], dict]
    write: Callable[[os.PathLike, "GenreField", list[str], bool], None]
    restore: Callable[[os.PathLike, "GenreField", dict], None]


@dataclass(frozen=True)
class GenreField:
    """Where one format keeps its genres.

    ``openers`` are the mutagen classes tried in order (an ``.ogg`` may hold
    Vorbis, Opus, FLAC or Speex); ``key`` is the genre key tagger writes;
    ``container`` says where an ID3 tag sits ("mp3", "wav", "aiff").
    """

    openers: tuple[type, ...]
    family: Family
    key: str
    container: str = ""


# The files parsed in a ``parsed_once`` block: (real path, field) -> mutagen object.
_PARSED: ContextVar[dict | None] = ContextVar("tagger_parsed", default=None)


@contextlib.contextmanager
def parsed_once():
    """Within the block, ``open_audio`` parses each file once: a caller that
    reads a file's genres, their state and then writes it (the writer) makes
    one parse for the reads and the write's check, and the edit its own
    (``open_tagged`` parses afresh and forgets the file). Read nothing of a
    file in the block after editing it."""
    token = _PARSED.set({})
    try:
        yield
    finally:
        _PARSED.reset(token)


def open_audio(path: str | os.PathLike, field: GenreField, name=None):
    """Load a file with the first of the field's mutagen classes that reads it
    (in a ``parsed_once`` block, the object of its first load).

    ``name`` is the path errors report (the original, when opening a temp copy).
    """
    parsed = _PARSED.get()
    key = (os.path.realpath(path), field)
    if parsed is not None and key in parsed:
        return parsed[key]
    audio = _parse(path, field, name)
    if parsed is not None:
        parsed[key] = audio
    return audio


def _parse(path: str | os.PathLike, field: GenreField, name=None):
    name = path if name is None else name
    if not os.path.isfile(path):
        raise TagError("file not found", name)
    error: Exception | None = None
    for opener in field.openers:
        try:
            return opener(os.fspath(path))
        except (mutagen.MutagenError, OSError, ValueError, EOFError) as e:
            error = error or e
    raise TagError(f"cannot read tags: {error}", name) from error


def open_tagged(path, field: GenreField, needed: bool):
    """The file opened for an edit (parsed afresh), with a tag block added if
    it has none and ``needed``; None when it has none and none is needed
    (nothing to write)."""
    parsed = _PARSED.get()
    if parsed is not None:
        parsed.pop((os.path.realpath(path), field), None)
    audio = _parse(path, field)
    if audio.tags is None:
        if not needed:
            return None
        audio.add_tags()
    return audio


def edit_entries(path, field: GenreField, needed: bool, change: Callable[[list], list]) -> None:
    """Set the entries of a tag that is a list (Vorbis comments, ASF
    attributes) to ``change(entries)`` and save; a file without a tag block
    gets one only when ``needed``."""
    audio = open_tagged(path, field, needed)
    if audio is None:
        return
    audio.tags[:] = change(list(audio.tags))
    audio.save()


def b64(data: bytes) -> str:
    """Raw bytes as text, for the journal's JSON state."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))
