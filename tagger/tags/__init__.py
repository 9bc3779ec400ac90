"""Read and write the genre field of audio files, in place and kill-safe, through mutagen.

The public API of the tag stage, and the one table: every format tagger
writes is one row of ``GENRE_FIELDS``: which mutagen classes open it, which
tag family it uses (``id3``, ``vorbis``, ``mp4``, ``asf`` in this package)
and the genre key in that family. ``inplace`` edits a file in place behind a
backup; ``_raw`` holds the byte-level editors, ``entries`` the one routine
that replaces or restores a tag block's genre entries, and ``_mutagen`` every
private mutagen name they use. May import ``constants`` and
``errors`` only: never ``model``, ``store`` or ``audio``.
Genres are lists everywhere; a format with a real multi-value field stores one
value per genre.

Decisions, taken to match beets/mediafile and MusicBrainz Picard:

- A write changes the genre fields and nothing else, and ``restore_state``
  puts back exactly what ``read_state`` recorded (the journal's before-state).
- ID3 (MP3, WAV, AIFF): ``TCON``, edited as raw frames (``_raw.id3``) so the
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
beside it until the edit is on disk (``inplace``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path

import mutagen
from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.musepack import Musepack
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from mutagen.wavpack import WavPack

from . import asf, id3, inplace, mp4, vorbis
from ..errors import TagError
from .id3 import ID3V1_GENRES
from .inplace import remove_stale_temps, restore_backup
from .fields import GenreField, open_audio, parsed_once
from .length import header_length

__all__ = ["GENRE_FIELDS", "supports", "read_genres", "read_state", "read_album", "read_artist",
           "read_tags", "FileTags", "write_genres", "restore_state", "restore_backup",
           "remove_stale_temps", "parsed_once"]

# "17" or "(17)": an ID3v1 genre number, as old taggers wrote it.
_ID3V1_NUMBER = re.compile(r"^\((\d{1,3})\)$|^(\d{1,3})$")

_OGG = (OggVorbis, OggOpus, OggFLAC, OggSpeex)

# The one table: file extension (lower case, no dot) -> genre field.
GENRE_FIELDS: dict[str, GenreField] = {
    "mp3": GenreField((MP3,), id3.ID3, "TCON", "mp3"),  # + ID3v1 byte, APEv2 Genre
    "wav": GenreField((WAVE,), id3.ID3, "TCON", "wav"),  # "id3 " chunk + INFO IGNR
    "aif": GenreField((AIFF,), id3.ID3, "TCON", "aiff"),  # an "ID3 " chunk
    "aiff": GenreField((AIFF,), id3.ID3, "TCON", "aiff"),
    "flac": GenreField((FLAC,), vorbis.VORBIS, "GENRE"),
    "ogg": GenreField(_OGG, vorbis.VORBIS, "GENRE"),
    "oga": GenreField(_OGG, vorbis.VORBIS, "GENRE"),
    "opus": GenreField((OggOpus,), vorbis.VORBIS, "GENRE"),
    "m4a": GenreField((MP4,), mp4.MP4, "\xa9gen"),  # AAC and ALAC alike; + gnre
    "mp4": GenreField((MP4,), mp4.MP4, "\xa9gen"),
    "wma": GenreField((ASF,), asf.ASF, "WM/Genre"),  # + WM/GenreID
    "wv": GenreField((WavPack,), id3.APE, "Genre"),
    "ape": GenreField((MonkeysAudio,), id3.APE, "Genre"),
    "mpc": GenreField((Musepack,), id3.APE, "Genre"),
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
    return _genres(open_audio(path, field), path, field)


def _genres(audio, path: str | os.PathLike, field: GenreField) -> list[str]:
    """``read_genres`` of the file ``path``, opened as ``audio``."""
    try:
        values = field.family.values(audio, path, field)
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
    open_audio(path, field)
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
    field = _field(path)
    return _album(open_audio(path, field), field)


# The (track) artist tag's key per format family, like ALBUM_KEYS.
ARTIST_KEYS = {"TCON": "TPE1", "GENRE": "ARTIST", "\xa9gen": "\xa9ART",
               "WM/Genre": "Author", "Genre": "Artist"}


def read_artist(path: str | os.PathLike) -> str | None:
    """The file's artist tag (its first non-empty value, stripped), or None.

    Raises TagError for a missing, unreadable or unsupported file.
    """
    field = _field(path)
    return _text(open_audio(path, field), ARTIST_KEYS[field.key])


def _album(audio, field: GenreField) -> str | None:
    return _text(audio, ALBUM_KEYS[field.key])


def _text(audio, key: str) -> str | None:
    """The first non-empty value of the text tag ``key`` of the opened ``audio``, stripped."""
    from mutagen.apev2 import TEXT

    value = None if audio.tags is None else audio.tags.get(key)
    if value is None or getattr(value, "kind", TEXT) != TEXT:  # APEv2: text values only
        return None
    values = value.text if hasattr(value, "text") else list(value)
    return next((str(v).strip() for v in values if str(v).strip()), None)


@dataclasses.dataclass(frozen=True)
class FileTags:
    """What a scan reads of a file's headers and tags (``read_tags``)."""

    length: float | None = None  # s, from the headers; None when they do not say
    length_declared: bool = False  # stated by the header, not estimated from size and bitrate
    genres: list[str] = dataclasses.field(default_factory=list)  # as read_genres gives them
    album: str | None = None  # as read_album gives it


def read_tags(path: str | os.PathLike) -> FileTags:
    """The file's header length, genres and album, from one mutagen parse.

    The file is parsed as its content says (``mutagen.File``, as the decoder
    chooses by content), and that object gives the length and, when it is of
    the class the extension's genre field opens, the genres and album too. A
    file whose content and name disagree, or that mutagen cannot identify, is
    opened a second time as its extension says, as ``read_genres`` would.
    Unreadable headers give no length, unreadable or unsupported tags no
    genres and no album: no TagError is raised.
    """
    try:
        audio = mutagen.File(os.fspath(path))
    except Exception:  # noqa: BLE001 - unreadable headers: decode in full instead
        audio = None
    length, declared = header_length(audio, path)
    genre_field = GENRE_FIELDS.get(_extension(path))
    if genre_field is None:
        return FileTags(length, declared)
    try:
        if not isinstance(audio, genre_field.openers):
            audio = open_audio(path, genre_field)
        genres = _genres(audio, path, genre_field)
    except TagError:
        return FileTags(length, declared)
    return FileTags(length, declared, genres, _album(audio, genre_field))


def write_genres(path: str | os.PathLike, genres: list[str], *,
                 id3v23: bool = False,
                 on_backup: Callable[[Path], None] | None = None,
                 on_edited: Callable[[inplace.Delta], None] | None = None) -> None:
    """Set a file's genres in place; an empty list removes the genre fields.

    Only the genre fields change (see ``fields.Family``): every other
    frame, key, atom or chunk is kept as stored, and an ID3 tag keeps its
    version (v2.2, v2.3 or v2.4). ``id3v23`` makes a *new* ID3 tag v2.3 (genres joined with
    "/") instead of v2.4; it only matters for MP3, WAV and AIFF without one.
    The other genre fields a format has are kept in step: an MP3's ID3v1
    genre byte is set when the first genre with an ID3v1 number has one, an
    APEv2 ``Genre`` beside ID3 and a WAV's INFO ``IGNR`` are rewritten, a
    WMA's ``WM/GenreID`` and an M4A's ``gnre`` are removed.

    See ``inplace.commit`` for how the file is edited in place, ``on_backup``
    and ``on_edited`` (the delta that gives the old bytes back). Raises TagError naming the file when the format is unsupported, the file
    is missing or read-only, its folder is read-only (the backup goes there),
    or anything fails; the file is then as it was.
    """
    genres = _clean(genres)
    field = _field(path)
    _commit(path, field, lambda target: field.family.write(target, field, genres, id3v23),
            on_backup, on_edited)


def restore_state(path: str | os.PathLike, state: dict, *,
                  on_backup: Callable[[Path], None] | None = None) -> None:
    """Put back the genre fields ``read_state`` returned, exactly as stored;
    in place and touching nothing else, like ``write_genres``."""
    field = _field(path)
    if state.get("family") != field.family.name:
        raise TagError(f"the recorded genre state is for {state.get('family')} "
                       f"tags, not {field.family.name}", path)
    _commit(path, field, lambda target: field.family.restore(target, field, state),
            on_backup)


def _commit(path: str | os.PathLike, field: GenreField, edit: Callable[[Path], None],
            on_backup: Callable[[Path], None] | None,
            on_edited: Callable[[inplace.Delta], None] | None = None) -> None:
    """``edit`` the file in place (``inplace.commit``), refusing before any
    copy a file the field's mutagen classes cannot read."""
    inplace.commit(path, edit, on_backup=on_backup, on_edited=on_edited,
                     check=lambda target: open_audio(target, field, path))


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
