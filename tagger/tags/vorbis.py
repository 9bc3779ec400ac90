"""The genre field of Vorbis comments (FLAC, Ogg Vorbis/Opus/FLAC/Speex).

The comments are (key, value) pairs; each genre comment keeps its key's case
and its place among the others. A ``fields.Family``: values, state,
write, restore.
"""

from __future__ import annotations

from .entries import genre_entries, replaced, restored
from .fields import Family, GenreField, edit_entries, open_audio


def _is_genre(comment: tuple[str, str]) -> bool:
    return comment[0].upper() == "GENRE"


def _values(audio, path, field: GenreField) -> list[str]:
    return [v for _, (_, v) in genre_entries(list(audio.tags or []), _is_genre)]


def _state(path, field: GenreField) -> dict:
    tags = open_audio(path, field).tags
    return {"comments": [[i, k, v] for i, (k, v) in genre_entries(list(tags or []), _is_genre)]}


def _write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    new = [(field.key, g) for g in genres]
    edit_entries(path, field, bool(genres), lambda comments: replaced(comments, _is_genre, new))


def _restore(path, field: GenreField, state: dict) -> None:
    saved = [(i, (key, value)) for i, key, value in state["comments"]]
    edit_entries(path, field, bool(saved), lambda comments: restored(comments, _is_genre, saved))


VORBIS = Family("vorbis", _values, _state, _write, _restore)
