"""The genre fields edited as raw bytes through ``raw_id3``: ID3 and APEv2.

ID3 (MP3, WAV, AIFF): ``TCON`` frames in the tag's own version; beside it the
ID3v1 genre byte and an APEv2 tag (MP3), RIFF INFO ``IGNR`` (WAV). APEv2
(WavPack, Monkey's Audio, Musepack; and beside ID3 in an MP3): raw items
(``raw_ape.APETag``), so the others keep their order, flags and bytes. Each
family is a ``fields.Family``: values, state, write, restore.
"""

from __future__ import annotations

from collections.abc import Callable

from mutagen.id3 import TCON

from ._raw import ape as raw_ape, id3 as raw_id3, riff as raw_riff
from .fields import Family, GenreField, b64, unb64

# ID3v2.3 has one string per text frame: multiple genres are joined with this.
ID3V23_SEPARATOR = raw_id3.V23_SEPARATOR

# The 192 ID3v1 (with Winamp's extension) genre names, indexed by number.
ID3V1_GENRES = TCON.GENRES
_ID3V1_NAMES_WITH_SEPARATOR = frozenset(  # just "Pop/Funk"
    g for g in ID3V1_GENRES if ID3V23_SEPARATOR in g)


# --- ID3 ---

def _id3_values(audio, path, field: GenreField) -> list[str]:
    values = []
    if audio.tags is not None and "TCON" in audio.tags:
        values += list(audio.tags["TCON"].genres)  # "(17)", "17", "(RX)"...
        if audio.tags.version[:2] in ((2, 3), (2, 2)):
            values = [part for g in values for part in _split_v23(g)]
    if field.container == "mp3":
        values += _ape_values(_read_ape(path))
    if field.container == "wav":
        with open(path, "rb") as f:
            ignr = raw_riff.read_ignr(f)
        if ignr is not None:
            values += raw_riff.ignr_genres(ignr)
    return values


def _split_v23(value: str) -> list[str]:
    """Split a v2.3 value on "/", keeping ID3v1 names such as "Pop/Funk" whole."""
    parts = value.split(ID3V23_SEPARATOR)
    out: list[str] = []
    for part in parts:
        if out and f"{out[-1]}{ID3V23_SEPARATOR}{part}" in _ID3V1_NAMES_WITH_SEPARATOR:
            out[-1] += ID3V23_SEPARATOR + part
        else:
            out.append(part)
    return out


def _id3_state(path, field: GenreField) -> dict:
    with open(path, "rb") as f:
        tag = raw_id3.ID3Location(f, field.container).read()
        state: dict = {"id3": None if tag is None else {
            "version": [2, tag.major, tag.revision],
            "genre_frames": [[i, b64(frame)] for i, frame in tag.genre_frames()]}}
        if field.container == "mp3":
            state["id3v1_genre"] = raw_id3.read_v1_genre(f)
        if field.container == "wav":
            ignr = raw_riff.read_ignr(f)
            state["info_ignr"] = None if ignr is None else b64(ignr)
    if field.container == "mp3":
        state["ape"] = _ape_state(_read_ape(path))
    return state


def _id3_write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    with open(path, "r+b") as f:
        where = raw_id3.ID3Location(f, field.container)
        tag = where.read()
        if tag is None and genres:  # only a new tag takes the --id3v23 choice
            tag = raw_id3.new_tag(3 if id3v23 else 4)
        if tag is not None:
            edited = tag.with_genres(genres)
            if edited != tag:
                where.write(edited)
        if field.container == "mp3" and raw_id3.read_v1_genre(f) is not None:
            number = raw_id3.v1_number(genres) if genres else raw_id3.ID3V1_NO_GENRE
            if number is not None:
                raw_id3.write_v1_genre(f, number)
        if field.container == "wav" and raw_riff.read_ignr(f) is not None:
            raw_riff.write_ignr(f, raw_riff.ignr_value(genres) if genres else None)
    if field.container == "mp3":
        # An APEv2 genre beside ID3 is rewritten; no APE genre is added.
        _ape_edit(path, lambda tag: tag.with_genres(genres) if tag.genre_items()
                  else tag, create=False)


def _id3_restore(path, field: GenreField, state: dict) -> None:
    saved = state["id3"]
    with open(path, "r+b") as f:
        where = raw_id3.ID3Location(f, field.container)
        tag = where.read()
        if saved is None:
            where.write(None)  # tagger added the tag: remove it whole
        else:
            if tag is None:
                tag = raw_id3.ID3Tag(saved["version"][1], saved["version"][2], 0, b"", ())
            frames = [(i, unb64(frame)) for i, frame in saved["genre_frames"]]
            where.write(tag.with_genre_frames(frames))
        v1 = state.get("id3v1_genre")
        if v1 is not None and raw_id3.read_v1_genre(f) is not None:
            raw_id3.write_v1_genre(f, v1)
        if field.container == "wav":
            ignr = state.get("info_ignr")
            if (ignr is not None) or raw_riff.read_ignr(f) is not None:
                raw_riff.write_ignr(f, None if ignr is None else unb64(ignr))
    if field.container == "mp3" and state.get("ape") is not None:
        items = _saved_items(state["ape"])
        _ape_edit(path, lambda tag: tag.with_genre_items(items), create=False)


# --- APEv2 ---

def _read_ape(path) -> raw_ape.APETag | None:
    with open(path, "rb") as f:
        return raw_ape.read_ape(f)


def _ape_state(tag: raw_ape.APETag | None) -> list | None:
    """[index, base64 raw item] of the genre items; None without a tag."""
    return None if tag is None else [[i, b64(item)] for i, item in tag.genre_items()]


def _ape_values(tag: raw_ape.APETag | None) -> list[str]:
    values = []
    for _, item in tag.genre_items() if tag is not None else []:
        _key, kind, value = raw_ape.ape_item(item)
        if kind == "text":  # a binary or external value names no genre
            values += value.decode("utf-8", "replace").split("\0")
    return values


def _ape_edit(path, change: Callable[[raw_ape.APETag], raw_ape.APETag | None],
              create: bool) -> None:
    """Apply ``change`` to the file's APE tag (a new empty one if it has none
    and ``create``); ``change`` returning None removes the tag."""
    with open(path, "r+b") as f:
        old = raw_ape.read_ape(f)
        if old is None:
            if not create:
                return
            old = raw_ape.new_ape(f)
        new = change(old)
        if new != old:
            raw_ape.write_ape(f, new, old)


def _saved_items(saved: list) -> list[tuple[int, bytes]]:
    return [(i, unb64(item)) for i, item in saved]


def _ape_family_values(audio, path, field: GenreField) -> list[str]:
    return _ape_values(_read_ape(path))


def _ape_family_state(path, field: GenreField) -> dict:
    return {"ape": _ape_state(_read_ape(path))}


def _ape_family_write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    _ape_edit(path, lambda tag: tag.with_genres(genres, field.key), create=bool(genres))


def _ape_family_restore(path, field: GenreField, state: dict) -> None:
    if state["ape"] is None:  # tagger added the tag: remove it whole
        _ape_edit(path, lambda tag: None, create=False)
    else:
        items = _saved_items(state["ape"])
        _ape_edit(path, lambda tag: tag.with_genre_items(items), create=True)


ID3 = Family("id3", _id3_values, _id3_state, _id3_write, _id3_restore)
APE = Family("ape", _ape_family_values, _ape_family_state, _ape_family_write,
             _ape_family_restore)
