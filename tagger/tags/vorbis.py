"""The genre field of Vorbis comments (FLAC, Ogg Vorbis/Opus/FLAC/Speex).

The comments are (key, value) pairs; each genre comment keeps its key's case
and its place among the others. A ``tagfields.Family``: values, state,
write, restore.
"""

from __future__ import annotations

from .fields import Family, GenreField, open_audio, open_tagged


def _is_genre(key: str) -> bool:
    return key.upper() == "GENRE"


def _values(audio, path, field: GenreField) -> list[str]:
    tags = audio.tags
    return [v for k, v in (tags or []) if _is_genre(k)]


def _state(path, field: GenreField) -> dict:
    tags = open_audio(path, field).tags
    return {"comments": [[i, k, v] for i, (k, v) in enumerate(tags or [])
                         if _is_genre(k)]}


def _write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    audio = open_tagged(path, field, bool(genres))
    if audio is None:
        return
    comments = list(audio.tags)
    first = next((i for i, (k, _) in enumerate(comments) if _is_genre(k)), None)
    others = [(k, v) for k, v in comments if not _is_genre(k)]
    at = len(others) if first is None else first
    audio.tags[:] = others[:at] + [(field.key, g) for g in genres] + others[at:]
    audio.save()


def _restore(path, field: GenreField, state: dict) -> None:
    audio = open_tagged(path, field, bool(state["comments"]))
    if audio is None:
        return
    comments = [(k, v) for k, v in audio.tags if not _is_genre(k)]
    for i, key, value in state["comments"]:
        comments.insert(min(i, len(comments)), (key, value))
    audio.tags[:] = comments
    audio.save()


VORBIS = Family("vorbis", _values, _state, _write, _restore)
