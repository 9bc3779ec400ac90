"""The genre fields of ASF (WMA): the ``WM/Genre`` and ``WM/GenreID`` attributes.

Each keeps its type, language and stream, at its place in the attribute
list. A write sets ``WM/Genre`` and removes ``WM/GenreID`` (a number or name
some players show; the journal keeps it). A ``tagfields.Family``: values,
state, write, restore.
"""

from __future__ import annotations

from mutagen.asf import UNICODE as ASF_UNICODE, ASFValue

from .fields import Family, GenreField, b64, open_audio, open_tagged, unb64

_GENRE_KEYS = ("WM/Genre", "WM/GenreID")


def _values(audio, path, field: GenreField) -> list[str]:
    tags = audio.tags
    return [str(v.value) for k, v in (tags or []) if k in _GENRE_KEYS]


def _json(value) -> object:
    return {"base64": b64(value)} if isinstance(value, bytes) else value


def _state(path, field: GenreField) -> dict:
    tags = open_audio(path, field).tags
    return {"attributes": [[i, k, v.TYPE, _json(v.value), v.language, v.stream]
                           for i, (k, v) in enumerate(tags or [])
                           if k in _GENRE_KEYS]}


def _put(path, field: GenreField, items: list) -> None:
    audio = open_tagged(path, field, bool(items))
    if audio is None:
        return
    attrs = [(k, v) for k, v in audio.tags if k not in _GENRE_KEYS]
    for i, key, kind, value, language, stream in items:
        if isinstance(value, dict):
            value = unb64(value["base64"])
        attrs.insert(min(i, len(attrs)),
                     (key, ASFValue(value, kind, language=language, stream=stream)))
    audio.tags[:] = attrs
    audio.save()


def _write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    tags = open_audio(path, field).tags or []
    first = next((i for i, (k, _) in enumerate(tags) if k in _GENRE_KEYS),
                 len([k for k, _ in tags if k not in _GENRE_KEYS]))
    _put(path, field, [[first + n, field.key, ASF_UNICODE, g, None, None]
                       for n, g in enumerate(genres)])


def _restore(path, field: GenreField, state: dict) -> None:
    _put(path, field, state["attributes"])


ASF = Family("asf", _values, _state, _write, _restore)
