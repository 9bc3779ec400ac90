"""Read and write the genre field of audio files, atomically, through mutagen.

Every format tagger writes is one row of ``GENRE_FIELDS``: which mutagen
classes open it, which tag family it uses and the genre key in that family.
Genres are lists everywhere; a format with a real multi-value field stores one
value per genre.

Decisions, taken to match beets/mediafile and MusicBrainz Picard:

- ID3 (MP3, WAV, AIFF): ``TCON``, written as ID3v2.4 (values separated by NUL,
  as the standard says). ``id3v23=True`` writes ID3v2.3 instead, which has no
  multi-value text frames: values are joined with ``ID3V23_SEPARATOR`` ("/"),
  mutagen's and Picard's default. Reading a v2.3 tag splits on "/" again,
  except a value that is an ID3v1 genre name containing "/" ("Pop/Funk").
- MP4/M4A (AAC and ALAC): ``\\xa9gen``. The old numeric ``gnre`` atom is read
  (mutagen maps its ID3v1 number to a name). It is never written; writing
  ``\\xa9gen`` drops a ``gnre`` atom so the file cannot carry two conflicting
  genres -- mutagen does this on every save, so Picard and beets behave alike.
- ID3v1-style numeric genres ("17", "(17)") read as their names ("Rock") in
  every format; an out-of-range number is returned as written.
- A raw ADTS ``.aac`` file has no tag block mutagen can write: unsupported.

Writes never touch audio data: mutagen rewrites only the tag block, and the
file is replaced by a fully written copy with one rename (see ``write_genres``).
"""

from __future__ import annotations

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
from mutagen.apev2 import TEXT as APE_TEXT
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.id3 import TCON
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

from .constants import TEMP_MARKER
from .errors import TagError

# ID3v2.3 has one string per text frame: multiple genres are joined with this.
ID3V23_SEPARATOR = "/"

# The 192 ID3v1 (with Winamp's extension) genre names, indexed by number.
ID3V1_GENRES = TCON.GENRES
# "17" or "(17)": an ID3v1 genre number, as old taggers wrote it.
_ID3V1_NUMBER = re.compile(r"^\((\d{1,3})\)$|^(\d{1,3})$")
_ID3V1_NAMES_WITH_SEPARATOR = frozenset(  # just "Pop/Funk"
    g for g in ID3V1_GENRES if ID3V23_SEPARATOR in g)


# --- tag families: how a list of genres is read from / put into a tag block ---

def _id3_get(tags, key: str) -> list[str]:
    frame = tags.get(key)
    if frame is None:
        return []
    genres = list(frame.genres)  # mutagen resolves "(17)", "17", "(RX)"...
    if tags.version[:2] == (2, 3):
        genres = [part for g in genres for part in _split_v23(g)]
    return genres


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


def _id3_set(tags, key: str, genres: list[str]) -> None:
    # UTF-8; mutagen re-encodes as UTF-16 when saving v2.3, which lacks UTF-8.
    tags.setall(key, [TCON(encoding=3, text=genres)])


def _id3_remove(tags, key: str) -> None:
    tags.delall(key)


def _list_get(tags, key: str) -> list[str]:
    # Vorbis comments, MP4 and ASF all hold a list of values per key.
    return [str(v) for v in tags.get(key, [])]


def _list_set(tags, key: str, genres: list[str]) -> None:
    tags[key] = list(genres)


def _list_remove(tags, key: str) -> None:
    if key in tags:
        del tags[key]


def _ape_get(tags, key: str) -> list[str]:
    value = tags.get(key)
    if value is None or value.kind != APE_TEXT:
        return []
    return list(value)  # APEv2 separates values with NUL


@dataclass(frozen=True)
class _Family:
    """One way of storing a list of genres in a mutagen tag object."""

    get: Callable[[object, str], list[str]]
    set: Callable[[object, str, list[str]], None]
    remove: Callable[[object, str], None]
    id3: bool = False  # saved with an ID3 version and separator


_ID3 = _Family(_id3_get, _id3_set, _id3_remove, id3=True)
_LIST = _Family(_list_get, _list_set, _list_remove)
_APE = _Family(_ape_get, _list_set, _list_remove)


@dataclass(frozen=True)
class GenreField:
    """Where one format keeps its genres.

    ``openers`` are the mutagen classes tried in order (an ``.ogg`` may hold
    Vorbis, Opus, FLAC or Speex); ``key`` is the genre key in the tag block.
    """

    openers: tuple[type, ...]
    family: _Family
    key: str


_OGG = (OggVorbis, OggOpus, OggFLAC, OggSpeex)

# The one table: file extension (lower case, no dot) -> genre field.
GENRE_FIELDS: dict[str, GenreField] = {
    "mp3": GenreField((MP3,), _ID3, "TCON"),
    "wav": GenreField((WAVE,), _ID3, "TCON"),  # an "id3 " chunk
    "aif": GenreField((AIFF,), _ID3, "TCON"),  # an "ID3 " chunk
    "aiff": GenreField((AIFF,), _ID3, "TCON"),
    "flac": GenreField((FLAC,), _LIST, "GENRE"),
    "ogg": GenreField(_OGG, _LIST, "GENRE"),
    "oga": GenreField(_OGG, _LIST, "GENRE"),
    "opus": GenreField((OggOpus,), _LIST, "GENRE"),
    "m4a": GenreField((MP4,), _LIST, "\xa9gen"),  # AAC and ALAC alike
    "mp4": GenreField((MP4,), _LIST, "\xa9gen"),
    "wma": GenreField((ASF,), _LIST, "WM/Genre"),
    "wv": GenreField((WavPack,), _APE, "Genre"),
    "ape": GenreField((MonkeysAudio,), _APE, "Genre"),
    "mpc": GenreField((Musepack,), _APE, "Genre"),
}


def supports(path: str | os.PathLike) -> bool:
    """Whether the file's format has a genre field tagger can write (by extension)."""
    return _extension(path) in GENRE_FIELDS


def read_genres(path: str | os.PathLike) -> list[str]:
    """The genres in a file's tags, in stored order; ``[]`` when it has none.

    Numeric ID3v1 genres ("17", "(17)") come back as names ("Rock").
    Raises TagError for a missing, unreadable or unsupported file.
    """
    field = _field(path)
    audio = _open(path, field)
    if audio.tags is None:
        return []
    try:
        values = field.family.get(audio.tags, field.key)
    except (mutagen.MutagenError, ValueError) as e:
        raise TagError(f"could not read the genre tag: {e}", path) from e
    return [g for g in (_id3v1_name(v).strip() for v in values) if g]


# The album tag's key per format family (by the genre key of GENRE_FIELDS).
ALBUM_KEYS = {"TCON": "TALB", "GENRE": "ALBUM", "\xa9gen": "\xa9alb",
              "WM/Genre": "WM/AlbumTitle", "Genre": "Album"}


def read_album(path: str | os.PathLike) -> str | None:
    """The file's album tag (its first non-empty value, stripped), or None.

    Raises TagError for a missing, unreadable or unsupported file.
    """
    field = _field(path)
    audio = _open(path, field)
    value = None if audio.tags is None else audio.tags.get(ALBUM_KEYS[field.key])
    if value is None or getattr(value, "kind", APE_TEXT) != APE_TEXT:
        return None
    values = value.text if hasattr(value, "text") else list(value)
    return next((str(v).strip() for v in values if str(v).strip()), None)


def write_genres(path: str | os.PathLike, genres: list[str], *,
                 id3v23: bool = False) -> None:
    """Set a file's genres, atomically; an empty list removes the genre field.

    The file is copied to a hidden temp file in the same folder (its name
    carries TEMP_MARKER), the copy is tagged, flushed to disk, given the
    original's permission bits and renamed over the original in one
    ``os.replace``; then the folder is synced. A crash leaves either the old
    file or the new one, plus perhaps a temp file (see ``remove_stale_temps``).
    Only the tag block changes; audio bytes are never rewritten. Other tags
    are kept. A hard link to the file keeps the old content (a rename makes a
    new inode); a symlink is followed and its target replaced.

    ``id3v23`` writes ID3v2.3 (genres joined with "/") instead of v2.4; it
    only matters for MP3, WAV and AIFF.

    Raises TagError naming the file when the format is unsupported, the file is
    missing or read-only (no write permission bit, or no access), or anything
    fails; the original is then untouched and the temp file removed.
    """
    genres = _clean(genres)
    field = _field(path)
    target = Path(os.path.realpath(path))
    st = _writable_stat(target, path)
    _open(target, field, path)  # refuse an unreadable file before copying it

    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}{TEMP_MARKER}", dir=target.parent)
        os.close(fd)
    except OSError as e:
        raise TagError(f"cannot create a temp file beside it: {e}", path) from e
    tmp = Path(tmp_name)
    replaced = False
    try:
        try:
            shutil.copyfile(target, tmp)
            _tag_copy(tmp, field, genres, id3v23, path)
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            _keep_owner(tmp, st)
            with open(tmp, "r+b") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            replaced = True
        except (OSError, mutagen.MutagenError, ValueError) as e:
            raise TagError(f"could not write genres: {e}", path) from e
    finally:
        if not replaced:
            tmp.unlink(missing_ok=True)
    _fsync_dir(target.parent)


def remove_stale_temps(root: str | os.PathLike) -> list[Path]:
    """Delete temp files that a killed write left under ``root``; return them.

    Only hidden files whose name contains TEMP_MARKER are touched. Run it when
    no other tagger process is writing in that folder. A file that cannot be
    removed is skipped.
    """
    removed = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith(".") and TEMP_MARKER in name:
                stale = Path(folder) / name
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


def _tag_copy(tmp: Path, field: GenreField, genres: list[str],
              id3v23: bool, name: str | os.PathLike) -> None:
    audio = _open(tmp, field, name)
    if audio.tags is None:
        audio.add_tags()
    if genres:
        field.family.set(audio.tags, field.key, genres)
    else:
        field.family.remove(audio.tags, field.key)
    if field.family.id3:
        audio.save(v2_version=3 if id3v23 else 4, v23_sep=ID3V23_SEPARATOR)
    else:
        audio.save()


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
    """Stat the file, refusing one we must not replace.

    A rename only needs the folder writable, so a read-only file would be
    replaced silently; check the file itself. Root passes ``os.access``
    whatever the mode, hence the permission-bit test too.
    """
    try:
        st = target.stat()
    except OSError as e:
        raise TagError(f"cannot stat file: {e.strerror}", path) from e
    if not stat.S_ISREG(st.st_mode):
        raise TagError("not a regular file", path)
    if not os.access(target, os.W_OK) or not st.st_mode & 0o222:
        raise TagError("file is read-only", path)
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise TagError("folder is not writable (needed for the temp copy)", path)
    return st


def _keep_owner(tmp: Path, st: os.stat_result) -> None:
    # Only root can give a file away; for anyone else the copy is already theirs.
    if hasattr(os, "chown") and (st.st_uid, st.st_gid) != _owner(tmp):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass


def _owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable. Not possible on Windows, where it is skipped."""
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
