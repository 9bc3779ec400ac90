"""The genre fields of ASF (WMA): the ``WM/Genre`` and ``WM/GenreID`` attributes.

Each keeps its type, language and stream, at its place in the attribute
list. A write sets ``WM/Genre`` and removes ``WM/GenreID`` (a number or name
some players show; the journal keeps it). A ``fields.Family``: values,
state, write, restore.
"""

from __future__ import annotations

from mutagen.asf import UNICODE as ASF_UNICODE, ASFValue

from .entries import genre_entries, replaced, restored
from .fields import Family, GenreField, b64, edit_entries, open_audio, unb64

_GENRE_KEYS = ("WM/Genre", "WM/GenreID")


def _is_genre(attribute: tuple[str, ASFValue]) -> bool:
    return attribute[0] in _GENRE_KEYS


def _values(audio, path, field: GenreField) -> list[str]:
    return [str(v.value) for _, (k, v) in genre_entries(list(audio.tags or []), _is_genre)]


def _json(value) -> object:
    return {"base64": b64(value)} if isinstance(value, bytes) else value


def _state(path, field: GenreField) -> dict:
    tags = open_audio(path, field).tags
    return {"attributes": [[i, k, v.TYPE, _json(v.value), v.language, v.stream]
                           for i, (k, v) in genre_entries(list(tags or []), _is_genre)]}


def _write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    new = [(field.key, ASFValue(g, ASF_UNICODE)) for g in genres]
    edit_entries(path, field, bool(new), lambda attrs: replaced(attrs, _is_genre, new))


def _restore(path, field: GenreField, state: dict) -> None:
    saved = [(i, (key, ASFValue(unb64(value["base64"]) if isinstance(value, dict) else value,
                                kind, language=language, stream=stream)))
             for i, key, kind, value, language, stream in state["attributes"]]
    edit_entries(path, field, bool(saved), lambda attrs: restored(attrs, _is_genre, saved))


ASF = Family("asf", _values, _state, _write, _restore)
