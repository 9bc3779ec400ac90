"""Read and write the genre field of audio files, in place and kill-safe, through mutagen.

Every format tagger writes is one row of ``GENRE_FIELDS``: which mutagen
classes open it, which tag family it uses and the genre key in that family.
Genres are lists everywhere; a format with a real multi-value field stores one
value per genre.

Decisions, taken to match beets/mediafile and MusicBrainz Picard:

- A write changes the genre fields and nothing else, and ``restore_state``
  puts back exactly what ``read_state`` recorded (the journal's before-state).
- ID3 (MP3, WAV, AIFF): ``TCON``, edited as raw frames (``rawtags``) so the
  tag keeps its version (v2.2, v2.3 or v2.4) and every other frame its bytes.
  v2.4 stores several genres as NUL-separated values; v2.2/v2.3 have one
  string per text frame: values are joined with ``ID3V23_SEPARATOR`` ("/"),
  mutagen's and Picard's default. Reading a v2.2/v2.3 tag splits on "/" again,
  except a value that is an ID3v1 genre name containing "/" ("Pop/Funk"). A
  file without an ID3v2 tag gets a v2.4 one (v2.3 with ``id3v23=True``).
- Other genre fields are kept in step, so a file says one thing: an MP3's
  ID3v1 genre byte (set when a new genre has an ID3v1 number, else left), an
  APEv2 ``Genre`` beside ID3 in an MP3 and a WAV's RIFF INFO ``IGNR``
  (rewritten; never created), a WMA's ``WM/GenreID`` (removed).
- MP4/M4A (AAC and ALAC): ``\\xa9gen``. The old numeric ``gnre`` atom is read
  (mutagen maps its ID3v1 number to a name), removed when ``\\xa9gen`` is
  written, never written itself except by an undo that puts one back.
- ID3v1-style numeric genres ("17", "(17)") read as their names ("Rock") in
  every format; an out-of-range number is returned as written.
- A raw ADTS ``.aac`` file has no tag block mutagen can write: unsupported.

Writes never touch audio data: only tag blocks are rewritten, in the
file itself (same inode, links, owner, mode, xattrs), with a synced backup
beside it until the edit is on disk (see ``write_genres``).
"""

from __future__ import annotations

import base64
import contextlib
import filecmp
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mutagen
from mutagen.aiff import AIFF
from mutagen.asf import ASF, UNICODE as ASF_UNICODE, ASFValue
from mutagen.flac import FLAC
from mutagen.id3 import TCON
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Tags, Atoms as MP4Atoms
from mutagen.musepack import Musepack
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from . import rawtags
from .constants import BACKUP_MARKER, TEMP_MARKER
from .errors import TagError

# ID3v2.3 has one string per text frame: multiple genres are joined with this.
ID3V23_SEPARATOR = "/"

# The 192 ID3v1 (with Winamp's extension) genre names, indexed by number.
ID3V1_GENRES = TCON.GENRES
# "17" or "(17)": an ID3v1 genre number, as old taggers wrote it.
_ID3V1_NUMBER = re.compile(r"^\((\d{1,3})\)$|^(\d{1,3})$")
_ID3V1_NAMES_WITH_SEPARATOR = frozenset(  # just "Pop/Funk"
    g for g in ID3V1_GENRES if ID3V23_SEPARATOR in g)


# --- tag families ---
#
# A family knows, for the files of its formats, four things:
#   state(path, field)    the genre fields exactly as stored: JSON-serialisable,
#                         raw where the format has raw values (base64)
#   values(path, field)   every genre value the file holds, as text (display)
#   write(path, field, genres, id3v23)   make the genre fields say ``genres``
#   restore(path, field, state)          put back exactly what ``state`` holds
# and touches nothing but the genre fields.

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


# ID3 (MP3, WAV, AIFF): raw frames through rawtags, in the tag's own version.
# Beside it: the ID3v1 genre byte and an APEv2 tag (MP3), RIFF INFO IGNR (WAV).

def _id3_values(path, field: GenreField) -> list[str]:
    audio = _open(path, field)
    values = []
    if audio.tags is not None and "TCON" in audio.tags:
        values += list(audio.tags["TCON"].genres)  # "(17)", "17", "(RX)"...
        if audio.tags.version[:2] in ((2, 3), (2, 2)):
            values = [part for g in values for part in _split_v23(g)]
    if field.container == "mp3":
        values += _ape_values(_read_ape(path))
    if field.container == "wav":
        with open(path, "rb") as f:
            ignr = rawtags.read_ignr(f)
        if ignr is not None:
            values += rawtags.ignr_genres(ignr)
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
        tag = rawtags.ID3Location(f, field.container).read()
        state: dict = {"id3": None if tag is None else {
            "version": [2, tag.major, tag.revision],
            "genre_frames": [[i, _b64(frame)] for i, frame in tag.genre_frames()]}}
        if field.container == "mp3":
            state["id3v1_genre"] = rawtags.read_v1_genre(f)
        if field.container == "wav":
            ignr = rawtags.read_ignr(f)
            state["info_ignr"] = None if ignr is None else _b64(ignr)
    if field.container == "mp3":
        state["ape"] = _ape_state(_read_ape(path))
    return state


def _id3_write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    with open(path, "r+b") as f:
        where = rawtags.ID3Location(f, field.container)
        tag = where.read()
        if tag is None and genres:  # only a new tag takes the --id3v23 choice
            tag = rawtags.new_tag(3 if id3v23 else 4)
        if tag is not None:
            edited = tag.with_genres(genres)
            if edited != tag:
                where.write(edited)
        if field.container == "mp3" and rawtags.read_v1_genre(f) is not None:
            number = rawtags.v1_number(genres) if genres else rawtags.ID3V1_NO_GENRE
            if number is not None:
                rawtags.write_v1_genre(f, number)
        if field.container == "wav" and rawtags.read_ignr(f) is not None:
            rawtags.write_ignr(f, rawtags.ignr_value(genres) if genres else None)
    if field.container == "mp3":
        # An APEv2 genre beside ID3 is rewritten; no APE genre is added.
        _ape_edit(path, lambda tag: tag.with_genres(genres) if tag.genre_items()
                  else tag, create=False)


def _id3_restore(path, field: GenreField, state: dict) -> None:
    saved = state["id3"]
    with open(path, "r+b") as f:
        where = rawtags.ID3Location(f, field.container)
        tag = where.read()
        if saved is None:
            where.write(None)  # tagger added the tag: remove it whole
        else:
            if tag is None:
                tag = rawtags.ID3Tag(saved["version"][1], saved["version"][2], 0, b"", ())
            frames = [(i, _unb64(frame)) for i, frame in saved["genre_frames"]]
            where.write(tag.with_genre_frames(frames))
        v1 = state.get("id3v1_genre")
        if v1 is not None and rawtags.read_v1_genre(f) is not None:
            rawtags.write_v1_genre(f, v1)
        if field.container == "wav":
            ignr = state.get("info_ignr")
            if (ignr is not None) or rawtags.read_ignr(f) is not None:
                rawtags.write_ignr(f, None if ignr is None else _unb64(ignr))
    if field.container == "mp3" and state.get("ape") is not None:
        items = _saved_items(state["ape"])
        _ape_edit(path, lambda tag: tag.with_genre_items(items), create=False)


# APEv2 (WavPack, Monkey's Audio, Musepack; and beside ID3 in an MP3): raw
# items (rawtags.APETag), so the others keep their order, flags and bytes.

def _read_ape(path) -> rawtags.APETag | None:
    with open(path, "rb") as f:
        return rawtags.read_ape(f)


def _ape_state(tag: rawtags.APETag | None) -> list | None:
    """[index, base64 raw item] of the genre items; None without a tag."""
    return None if tag is None else [[i, _b64(item)] for i, item in tag.genre_items()]


def _ape_values(tag: rawtags.APETag | None) -> list[str]:
    values = []
    for _, item in tag.genre_items() if tag is not None else []:
        _key, kind, value = rawtags.ape_item(item)
        if kind == "text":  # a binary or external value names no genre
            values += value.decode("utf-8", "replace").split("\0")
    return values


def _ape_edit(path, change: Callable[[rawtags.APETag], rawtags.APETag | None],
              create: bool) -> None:
    """Apply ``change`` to the file's APE tag (a new empty one if it has none
    and ``create``); ``change`` returning None removes the tag."""
    with open(path, "r+b") as f:
        old = rawtags.read_ape(f)
        if old is None:
            if not create:
                return
            old = rawtags.new_ape(f)
        new = change(old)
        if new != old:
            rawtags.write_ape(f, new, old)


def _saved_items(saved: list) -> list[tuple[int, bytes]]:
    return [(i, _unb64(item)) for i, item in saved]


def _ape_family_values(path, field: GenreField) -> list[str]:
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


# Vorbis comments (FLAC, Ogg Vorbis/Opus/FLAC/Speex): (key, value) pairs with
# their key's case and their place among the other comments.

def _is_vorbis_genre(key: str) -> bool:
    return key.upper() == "GENRE"


def _vorbis_values(path, field: GenreField) -> list[str]:
    tags = _open(path, field).tags
    return [v for k, v in (tags or []) if _is_vorbis_genre(k)]


def _vorbis_state(path, field: GenreField) -> dict:
    tags = _open(path, field).tags
    return {"comments": [[i, k, v] for i, (k, v) in enumerate(tags or [])
                         if _is_vorbis_genre(k)]}


def _open_tagged(path, field: GenreField, needed: bool):
    """The file opened, with a tag block added if it has none and ``needed``;
    None when it has none and none is needed (nothing to write)."""
    audio = _open(path, field)
    if audio.tags is None:
        if not needed:
            return None
        audio.add_tags()
    return audio


def _vorbis_write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    audio = _open_tagged(path, field, bool(genres))
    if audio is None:
        return
    comments = list(audio.tags)
    first = next((i for i, (k, _) in enumerate(comments) if _is_vorbis_genre(k)), None)
    others = [(k, v) for k, v in comments if not _is_vorbis_genre(k)]
    at = len(others) if first is None else first
    audio.tags[:] = others[:at] + [(field.key, g) for g in genres] + others[at:]
    audio.save()


def _vorbis_restore(path, field: GenreField, state: dict) -> None:
    audio = _open_tagged(path, field, bool(state["comments"]))
    if audio is None:
        return
    comments = [(k, v) for k, v in audio.tags if not _is_vorbis_genre(k)]
    for i, key, value in state["comments"]:
        comments.insert(min(i, len(comments)), (key, value))
    audio.tags[:] = comments
    audio.save()


# MP4: the ilst is kept as raw (name, payload) atoms in file order; only the
# "\xa9gen" and "gnre" atoms change. mutagen would re-render and re-sort every
# atom; but it writes the atoms it could not parse back raw, in order, and
# still moves the chunk offsets (stco/co64/tfhd) when the ilst changes size.
# So the tag object is emptied and every atom handed to it as "unparsed".

_MP4_GENRE_ATOMS = (b"\xa9gen", b"gnre")


class _RawAtoms:
    """Stands in for ``MP4Tags._failed_atoms`` (its save only calls
    ``items()``): the ilst's atoms, raw and in order, duplicates included."""

    def __init__(self, atoms: list[tuple[bytes, bytes]]):
        self.atoms = atoms

    def items(self):
        return [(name.decode("latin-1"), [payload]) for name, payload in self.atoms]


def _mp4_values(path, field: GenreField) -> list[str]:
    tags = _open(path, field).tags
    return [str(v) for v in (tags or {}).get("\xa9gen", [])]


def _mp4_atoms(path) -> list[tuple[bytes, bytes]]:
    """(name, payload) of every ilst child, in file order; [] without an ilst."""
    with open(path, "rb") as f:
        try:
            ilst = MP4Atoms(f).path(b"moov", b"udta", b"meta", b"ilst")[-1]
        except KeyError:
            return []
        atoms = []
        for atom in ilst.children:
            ok, payload = atom.read(f)
            if not ok:
                raise rawtags.RawTagError(f"truncated {atom.name!r} atom")
            atoms.append((atom.name, payload))
    return atoms


def _mp4_state(path, field: GenreField) -> dict:
    return {"atoms": [[i, name.decode("latin-1"), _b64(payload)]
                      for i, (name, payload) in enumerate(_mp4_atoms(path))
                      if name in _MP4_GENRE_ATOMS]}


def _mp4_save(path, field: GenreField, genre_atoms: list[tuple[int, bytes, bytes]],
              new: bool) -> None:
    """Save the ilst with its genre atoms replaced by ``genre_atoms``
    ((index, name, payload); ``new``: the index is where the first old one was)."""
    audio = _open_tagged(path, field, bool(genre_atoms))
    if audio is None:
        return
    atoms = _mp4_atoms(path)
    first = next((i for i, (n, _) in enumerate(atoms) if n in _MP4_GENRE_ATOMS), None)
    atoms = [a for a in atoms if a[0] not in _MP4_GENRE_ATOMS]
    for index, name, payload in genre_atoms:
        at = (len(atoms) if first is None else first) + index if new else index
        atoms.insert(min(at, len(atoms)), (name, payload))
    audio.tags.clear()
    audio.tags._failed_atoms = _RawAtoms(atoms)
    audio.save()


def _mp4_write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    atoms = []
    if genres:  # mutagen renders the new atom: header (8 bytes) + payload
        rendered = MP4Tags()._render("\xa9gen", list(genres))
        atoms = [(0, rendered[4:8], rendered[8:])]
    _mp4_save(path, field, atoms, new=True)


def _mp4_restore(path, field: GenreField, state: dict) -> None:
    _mp4_save(path, field, [(i, name.encode("latin-1"), _unb64(payload))
                            for i, name, payload in state["atoms"]], new=False)


# ASF (WMA): WM/Genre and WM/GenreID attributes with their type, language
# and stream, at their place in the attribute list.

_ASF_GENRE_KEYS = ("WM/Genre", "WM/GenreID")


def _asf_values(path, field: GenreField) -> list[str]:
    tags = _open(path, field).tags
    return [str(v.value) for k, v in (tags or []) if k in _ASF_GENRE_KEYS]


def _asf_json(value) -> object:
    return {"base64": _b64(value)} if isinstance(value, bytes) else value


def _asf_state(path, field: GenreField) -> dict:
    tags = _open(path, field).tags
    return {"attributes": [[i, k, v.TYPE, _asf_json(v.value), v.language, v.stream]
                           for i, (k, v) in enumerate(tags or [])
                           if k in _ASF_GENRE_KEYS]}


def _asf_put(path, field: GenreField, items: list) -> None:
    audio = _open_tagged(path, field, bool(items))
    if audio is None:
        return
    attrs = [(k, v) for k, v in audio.tags if k not in _ASF_GENRE_KEYS]
    for i, key, kind, value, language, stream in items:
        if isinstance(value, dict):
            value = _unb64(value["base64"])
        attrs.insert(min(i, len(attrs)),
                     (key, ASFValue(value, kind, language=language, stream=stream)))
    audio.tags[:] = attrs
    audio.save()


def _asf_write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    # WM/GenreID (a number or name some players show) goes: the journal keeps it.
    tags = _open(path, field).tags or []
    first = next((i for i, (k, _) in enumerate(tags) if k in _ASF_GENRE_KEYS),
                 len([k for k, _ in tags if k not in _ASF_GENRE_KEYS]))
    _asf_put(path, field, [[first + n, field.key, ASF_UNICODE, g, None, None]
                           for n, g in enumerate(genres)])


def _asf_restore(path, field: GenreField, state: dict) -> None:
    _asf_put(path, field, state["attributes"])


@dataclass(frozen=True)
class _Family:
    """One way of storing genres; see the comment at the top of this section."""

    name: str
    values: Callable[[os.PathLike, "GenreField"], list[str]]
    state: Callable[[os.PathLike, "GenreField"], dict]
    write: Callable[[os.PathLike, "GenreField", list[str], bool], None]
    restore: Callable[[os.PathLike, "GenreField", dict], None]


_ID3 = _Family("id3", _id3_values, _id3_state, _id3_write, _id3_restore)
_VORBIS = _Family("vorbis", _vorbis_values, _vorbis_state, _vorbis_write, _vorbis_restore)
_MP4 = _Family("mp4", _mp4_values, _mp4_state, _mp4_write, _mp4_restore)
_ASF = _Family("asf", _asf_values, _asf_state, _asf_write, _asf_restore)
_APE = _Family("ape", _ape_family_values, _ape_family_state, _ape_family_write,
               _ape_family_restore)


@dataclass(frozen=True)
class GenreField:
    """Where one format keeps its genres.

    ``openers`` are the mutagen classes tried in order (an ``.ogg`` may hold
    Vorbis, Opus, FLAC or Speex); ``key`` is the genre key tagger writes;
    ``container`` says where an ID3 tag sits ("mp3", "wav", "aiff").
    """

    openers: tuple[type, ...]
    family: _Family
    key: str
    container: str = ""


_OGG = (OggVorbis, OggOpus, OggFLAC, OggSpeex)

# The one table: file extension (lower case, no dot) -> genre field.
GENRE_FIELDS: dict[str, GenreField] = {
    "mp3": GenreField((MP3,), _ID3, "TCON", "mp3"),  # + ID3v1 byte, APEv2 Genre
    "wav": GenreField((WAVE,), _ID3, "TCON", "wav"),  # "id3 " chunk + INFO IGNR
    "aif": GenreField((AIFF,), _ID3, "TCON", "aiff"),  # an "ID3 " chunk
    "aiff": GenreField((AIFF,), _ID3, "TCON", "aiff"),
    "flac": GenreField((FLAC,), _VORBIS, "GENRE"),
    "ogg": GenreField(_OGG, _VORBIS, "GENRE"),
    "oga": GenreField(_OGG, _VORBIS, "GENRE"),
    "opus": GenreField((OggOpus,), _VORBIS, "GENRE"),
    "m4a": GenreField((MP4,), _MP4, "\xa9gen"),  # AAC and ALAC alike; + gnre
    "mp4": GenreField((MP4,), _MP4, "\xa9gen"),
    "wma": GenreField((ASF,), _ASF, "WM/Genre"),  # + WM/GenreID
    "wv": GenreField((WavPack,), _APE, "Genre"),
    "ape": GenreField((MonkeysAudio,), _APE, "Genre"),
    "mpc": GenreField((Musepack,), _APE, "Genre"),
}


def supports(path: str | os.PathLike) -> bool:
    """Whether the file's format has a genre field tagger can write (by extension)."""
    return _extension(path) in GENRE_FIELDS


def read_genres(path: str | os.PathLike) -> list[str]:
    """The genres a file's tags name, in stored order; ``[]`` when none.

    For display and policy: every genre field the format has is read (ID3
    ``TCON`` or else the ID3v1 byte, plus an APEv2 ``Genre`` in an MP3, RIFF
    INFO ``IGNR`` in a WAV, MP4 ``gnre``, WMA ``WM/GenreID``), numeric ID3v1
    genres ("17", "(17)") come back as names ("Rock"), v2.3 "A/B" as two
    values, and empty or repeated values are dropped. ``read_state`` gives
    the fields as stored. Raises TagError for a missing, unreadable or
    unsupported file.
    """
    field = _field(path)
    _open(path, field)
    try:
        values = field.family.values(path, field)
    except (mutagen.MutagenError, OSError, ValueError) as e:
        raise TagError(f"could not read the genre tag: {e}", path) from e
    genres: list[str] = []
    for value in values:
        name = _id3v1_name(value).strip()
        if name and name.lower() not in {g.lower() for g in genres}:
            genres.append(name)
    return genres


def read_state(path: str | os.PathLike) -> dict:
    """A file's genre fields exactly as stored, JSON-serialisable, for the journal.

    ``{"family": "id3" | "vorbis" | "mp4" | "asf" | "ape", ...}``: for ID3 the
    tag version and the raw genre frames with their place (None: no tag), the
    ID3v1 genre byte and APEv2 genre items (MP3), the raw INFO ``IGNR`` (WAV);
    Vorbis: the genre comments with their key's case and place; MP4: the raw
    ``\\xa9gen``/``gnre`` atoms; ASF: ``WM/Genre``/``WM/GenreID`` with type,
    language and stream; APEv2: genre items with key case, kind and bytes
    (None: no tag). ``restore_state`` puts exactly this back.
    """
    field = _field(path)
    _open(path, field)
    try:
        return {"family": field.family.name, **field.family.state(path, field)}
    except (mutagen.MutagenError, OSError, ValueError) as e:
        raise TagError(f"could not read the genre tag: {e}", path) from e


# The album tag's key per format family (by the genre key of GENRE_FIELDS).
ALBUM_KEYS = {"TCON": "TALB", "GENRE": "ALBUM", "\xa9gen": "\xa9alb",
              "WM/Genre": "WM/AlbumTitle", "Genre": "Album"}


def read_album(path: str | os.PathLike) -> str | None:
    """The file's album tag (its first non-empty value, stripped), or None.

    Raises TagError for a missing, unreadable or unsupported file.
    """
    from mutagen.apev2 import TEXT

    field = _field(path)
    audio = _open(path, field)
    value = None if audio.tags is None else audio.tags.get(ALBUM_KEYS[field.key])
    if value is None or getattr(value, "kind", TEXT) != TEXT:  # APEv2: text values only
        return None
    values = value.text if hasattr(value, "text") else list(value)
    return next((str(v).strip() for v in values if str(v).strip()), None)


def write_genres(path: str | os.PathLike, genres: list[str], *,
                 id3v23: bool = False,
                 on_backup: Callable[[Path], None] | None = None) -> None:
    """Set a file's genres in place; an empty list removes the genre fields.

    Only the genre fields change (see ``_Family``): every other frame, key,
    atom or chunk is kept as stored, and an ID3 tag keeps its version (v2.2,
    v2.3 or v2.4). ``id3v23`` makes a *new* ID3 tag v2.3 (genres joined with
    "/") instead of v2.4; it only matters for MP3, WAV and AIFF without one.
    The other genre fields a format has are kept in step: an MP3's ID3v1
    genre byte is set when the first genre with an ID3v1 number has one, an
    APEv2 ``Genre`` beside ID3 and a WAV's INFO ``IGNR`` are rewritten, a
    WMA's ``WM/GenreID`` and an M4A's ``gnre`` are removed.

    See ``_commit`` for how the file is edited in place and ``on_backup``.
    Raises TagError naming the file when the format is unsupported, the file
    is missing or read-only, its folder is read-only (the backup goes there),
    or anything fails; the file is then as it was.
    """
    genres = _clean(genres)
    field = _field(path)
    _commit(path, field, lambda copy: field.family.write(copy, field, genres, id3v23),
            on_backup)


def restore_state(path: str | os.PathLike, state: dict, *,
                  on_backup: Callable[[Path], None] | None = None) -> None:
    """Put back the genre fields ``read_state`` returned, exactly as stored;
    in place and touching nothing else, like ``write_genres``."""
    field = _field(path)
    if state.get("family") != field.family.name:
        raise TagError(f"the recorded genre state is for {state.get('family')} "
                       f"tags, not {field.family.name}", path)
    _commit(path, field, lambda copy: field.family.restore(copy, field, state), on_backup)


def _commit(path: str | os.PathLike, field: GenreField,
            edit: Callable[[Path], None],
            on_backup: Callable[[Path], None] | None = None) -> None:
    """Apply ``edit`` (a genre edit of the file at the path it is given) in place.

    The file keeps its identity: the same inode, so hard links stay one file
    with the new tags, and its owner, mode, extended attributes and ACLs stay
    as they were. How a kill at any moment still leaves a whole file:

    1. the file is copied to a hidden backup beside it (copied under a
       TEMP_MARKER name, synced, then renamed to a BACKUP_MARKER name);
    2. ``on_backup(backup)`` is called: the caller commits the backup's path
       to its journal (an exception there removes the backup and is re-raised,
       the file untouched);
    3. ``edit`` changes the file itself (mutagen edits in place), which is
       then synced;
    4. the backup is removed.

    After a kill between 2 and 4, ``restore_backup`` copies the backup's bytes
    back into the file (the journal's recovery does this). A failed edit is
    rolled back from the backup at once. A symlink is followed.
    """
    target = Path(os.path.realpath(path))
    _writable_stat(target, path)
    _open(target, field, path)  # refuse an unreadable file before copying it
    backup = _make_backup(target, path)
    try:
        if on_backup is not None:
            on_backup(backup)
    except BaseException:
        backup.unlink(missing_ok=True)
        raise
    try:
        edit(target)
        _fsync_file(target)
    except (OSError, mutagen.MutagenError, ValueError) as e:
        _roll_back(backup, target, path, e)
        raise TagError(f"could not write genres: {e}", path) from e
    except BaseException as e:  # e.g. KeyboardInterrupt mid-edit
        _roll_back(backup, target, path, e)
        raise
    # The edit is on disk; a backup that cannot be removed is only clutter
    # (``remove_stale_temps`` keeps it, since it differs from the file).
    with contextlib.suppress(OSError):
        backup.unlink()


def restore_backup(backup: str | os.PathLike, target: str | os.PathLike) -> None:
    """Put a write's backup back: its bytes into ``target`` in place (same
    inode, links and attributes), its modification time too; then remove it.

    When ``target`` no longer exists, the backup is renamed to it instead, so
    the whole old file is never lost. Raises OSError.
    """
    backup, target = Path(backup), Path(target)
    if not target.exists():
        os.rename(backup, target)
        _fsync_dir(target.parent)
        return
    st = backup.stat()
    with open(backup, "rb") as src, open(target, "r+b") as dst:
        shutil.copyfileobj(src, dst, _COPY_BLOCK)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    backup.unlink()


def remove_stale_temps(root: str | os.PathLike) -> list[Path]:
    """Delete what killed writes left under ``root`` that nothing needs; return it.

    Only hidden files are touched: every TEMP_MARKER file (a temp or a backup
    being copied), and a BACKUP_MARKER backup whose bytes equal its file's
    (the edit never started). Any other backup is kept for the journal's
    recovery (``Journal.recover``), which must run first. Run it when no other
    tagger process is writing in that folder. A file that cannot be removed
    is skipped.
    """
    removed = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not name.startswith("."):
                continue
            stale = Path(folder) / name
            if TEMP_MARKER in name or (BACKUP_MARKER in name and _same_as_original(stale)):
                try:
                    stale.unlink()
                except OSError:
                    continue
                removed.append(stale)
    return sorted(removed)


# --- helpers ---

def _extension(path: str | os.PathLike) -> str:
    return Path(path).suffix.lower().lstrip(".")


def _field(path: str | os.PathLike) -> GenreField:
    ext = _extension(path)
    try:
        return GENRE_FIELDS[ext]
    except KeyError:
        raise TagError(f"unsupported format '.{ext}': no genre field tagger "
                       "can write", path) from None


def _open(path: str | os.PathLike, field: GenreField, name=None):
    """Load a file with the first of the field's mutagen classes that reads it.

    ``name`` is the path errors report (the original, when opening a temp copy).
    """
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


def _clean(genres: list[str]) -> list[str]:
    """Strip values and drop empty ones; a bare string is a caller's bug."""
    if isinstance(genres, str):
        raise TypeError("genres must be a list of strings, not a string")
    cleaned = []
    for g in genres:
        if not isinstance(g, str):
            raise TypeError(f"genre must be a string, not {type(g).__name__}")
        if "\0" in g:
            raise ValueError(f"genre contains a NUL character: {g!r}")
        if g.strip():
            cleaned.append(g.strip())
    return cleaned


def _id3v1_name(value: str) -> str:
    match = _ID3V1_NUMBER.match(value.strip())
    if match:
        number = int(match.group(1) or match.group(2))
        if number < len(ID3V1_GENRES):
            return ID3V1_GENRES[number]
    return value


def _writable_stat(target: Path, path: str | os.PathLike) -> os.stat_result:
    """Stat the file, refusing one we must not edit.

    Root passes ``os.access`` whatever the mode, hence the permission-bit
    tests too: a file or folder nobody may write is read-only for tagger, as
    root too. The folder matters because the backup is made there.
    """
    try:
        st = target.stat()
        folder = target.parent.stat()
    except OSError as e:
        raise TagError(f"cannot stat file: {e.strerror}", path) from e
    if not stat.S_ISREG(st.st_mode):
        raise TagError("not a regular file", path)
    if not os.access(target, os.W_OK) or not st.st_mode & 0o222:
        raise TagError("file is read-only", path)
    if not os.access(target.parent, os.W_OK | os.X_OK) or not folder.st_mode & 0o222:
        raise TagError("folder is read-only (the backup copy goes beside the file)", path)
    return st


_COPY_BLOCK = 1024 * 1024  # bytes per read when copying a file
_NAME_BYTES = 100  # at most this much of the file's name in a backup's name


def _make_backup(target: Path, name: str | os.PathLike) -> Path:
    """A synced copy of ``target`` beside it, under a BACKUP_MARKER name.

    It is copied under a TEMP_MARKER name first, so that a half-made backup
    is never taken for a whole one. Its times are the original's.
    """
    stem = target.name
    while len(os.fsencode(stem)) > _NAME_BYTES:
        stem = stem[:-1]
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}{TEMP_MARKER}", dir=target.parent)
    except OSError as e:
        raise TagError(f"cannot create a backup beside it: {e.strerror or e}", name) from e
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as dst, open(target, "rb") as src:
            shutil.copyfileobj(src, dst, _COPY_BLOCK)
            dst.flush()
            os.fsync(dst.fileno())
        st = target.stat()
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        backup = tmp.with_name(tmp.name.replace(TEMP_MARKER, BACKUP_MARKER, 1))
        os.rename(tmp, backup)
        _fsync_dir(target.parent)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise TagError(f"cannot create a backup beside it: {e.strerror or e}", name) from e
    return backup


def _roll_back(backup: Path, target: Path, name, error: BaseException) -> None:
    """After a failed edit: the backup's bytes back into the file."""
    try:
        restore_backup(backup, target)
    except OSError as e:
        raise TagError(f"could not write genres: {error}; and putting the original "
                       f"back failed ({e.strerror or e}): it is kept in {backup}, "
                       "which tagger's next write or undo run puts back", name) from e


def _same_as_original(backup: Path) -> bool:
    """Whether a backup's bytes equal the file it was made of (if it is there)."""
    original = backup.with_name(backup.name[1:].split(BACKUP_MARKER, 1)[0])
    try:
        return filecmp.cmp(original, backup, shallow=False)
    except OSError:
        return False


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make a new or renamed name durable. Not possible on Windows, where it is skipped."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
