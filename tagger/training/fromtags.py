"""A library's own genre tags as training labels (``tagger train --from-tags``).

The owner of a library has already tagged part of it; those tags, in the
owner's words, are the labels. Rules, in the order they apply:

- **Values.** Every genre field a format has is read (``tags.read_genres``:
  ID3v1 numbers such as "(17)" come back as names); each value is split
  further at ";", "/", "|" and "," (unless it is an ID3v1 name such as
  "Pop/Funk"). Empty values, numbers that name no genre and placeholders
  ("Unknown", "Other", ...) name no genre and are ignored.
- **One genre, many spellings.** Values whose ``genre_key`` is the same are
  one label: case, accents, spaces, hyphens and punctuation do not count, "&",
  "+" and "n" are "and", "Alt." is "Alternative" ("Hip Hop", "Hip-Hop",
  "HipHop" and "hiphop" are one label). The label is written back in the
  library's most common spelling of it (ties: the one met first).
- **Several genres.** A file naming several genres is labelled by its
  **first** one; the others are ignored (they still count as the library's
  spellings).
- **Too few examples.** A genre is left out, and listed with why, when fewer
  than MIN_TRACKS files carry it, or when all of them are one album or
  artist (a group, below): cross-validation needs two groups to test it.
- **Groups.** The files of one album (folder + album tag) and of one artist
  (artist tag) form one group, joined transitively, so that
  cross-validation never has one album, or one artist, on both sides.

Files without a genre are the untagged part: what a model trained here
would fill in (a default write keeps every existing genre).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .. import tags
from ..errors import DataError, TagError
from ..library import walk
from .dataset import Dataset

MIN_TRACKS = 5  # files a genre needs to be learnt ...
MIN_GROUPS = 2  # ... from at least this many albums by different artists (CV tests on one)
SOURCE = "library"  # the one source of a library's dataset (scores and balancing per source)

# Where one genre value holds several: "Rock; Pop", "Rock/Pop", "Rock | Pop", "Rock, Pop".
_SEPARATORS = re.compile(r"\s*[;/|,]\s*")
_ID3V1_NAMES = {g.casefold() for g in tags.ID3V1_GENRES}
# Words spelled in several ways, as genre_key's tokens.
_WORDS = {"&": "and", "+": "and", "n": "and", "alt": "alternative", "rnb": "randb"}
# Values that name no genre.
_PLACEHOLDERS = {"unknown", "other", "none", "misc", "miscellaneous", "genre", "undefined",
                 "na", "various", "unclassified", "notdefined"}


def genre_key(value: str) -> str:
    """What two spellings of one genre have in common: casefolded, accents
    and punctuation dropped, "&"/"+"/"n" as "and", "alt" as "alternative",
    the words joined ("Hip-Hop", "hip hop", "HipHop" -> "hiphop"; "Drum &
    Bass", "Drum 'n' Bass" -> "drumandbass"). "" for a value that names no
    genre: empty, a number, a placeholder ("Unknown", "Other")."""
    text = unicodedata.normalize("NFKD", value.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.findall(r"[^\W_]+|[&+]", text)
    # "n" is "and" between two words ("Drum 'n' Bass"), not at an end ("N/A").
    key = "".join(w if w == "n" and not 0 < i < len(words) - 1 else _WORDS.get(w, w)
                  for i, w in enumerate(words))
    if key.isdigit() or key in _PLACEHOLDERS:
        return ""
    return key


def split_values(values: Iterable[str]) -> list[str]:
    """A file's genre values split where one holds several ("A; B", "A/B"),
    each stripped, empty ones dropped; an ID3v1 name with a "/" ("Pop/Funk")
    stays whole."""
    out = []
    for value in values:
        parts = [value] if value.strip().casefold() in _ID3V1_NAMES else _SEPARATORS.split(value)
        out += [" ".join(p.split()) for p in parts if p.strip()]
    return out


@dataclass(frozen=True)
class LeftOut:
    """A genre of the library not learnt: its spelling, files, groups, why."""

    genre: str
    tracks: int
    groups: int
    reason: str


@dataclass
class LibraryLabels:
    """What a library's tags give to train on.

    ``data``: the files of the genres learnt, labelled with the library's
    spelling, one source (SOURCE), grouped by album and artist;
    ``identity``: path -> (size, mtime_ns) of those files as listed (to match
    a scan's cache); ``spellings``: label -> {spelling: files using it};
    ``left_out``: genres not learnt, and why; ``untagged``: files without a
    genre; ``several``: files naming more than one genre (labelled by the
    first); ``ignored``: values naming no genre -> files; ``unreadable``:
    (path, reason) of files whose tags could not be read."""

    data: Dataset
    identity: dict[str, tuple[int, int]]
    spellings: dict[str, dict[str, int]]
    left_out: list[LeftOut] = field(default_factory=list)
    untagged: int = 0
    several: int = 0
    ignored: dict[str, int] = field(default_factory=dict)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    min_tracks: int = MIN_TRACKS
    # path -> (size, mtime_ns) of the files of genres left out: the library's
    # own music outside what is learnt (fromcache calibrates writes with it).
    outside: dict[str, tuple[int, int]] = field(default_factory=dict)

    def summary(self) -> list[str]:
        """What was taken and what was left out, as lines for the user."""
        counts = self.data.counts()
        lines = [f"{len(self.data.paths)} tagged files in {len(counts)} genres: "
                 + ", ".join(f"{g} {n}" for g, n in counts.items())]
        for label, spelled in self.spellings.items():
            if len(spelled) > 1:
                lines.append(f"  {label}: also spelled " + ", ".join(
                    f'"{s}" ({n})' for s, n in spelled.items() if s != label))
        for lo in self.left_out:
            lines.append(f"left out {lo.genre}: {lo.reason}")
        if self.several:
            lines.append(f"{self.several} files name several genres: each is learnt as its first")
        if self.ignored:
            lines.append("ignored values that name no genre: " + ", ".join(
                f'"{v}" ({n})' for v, n in self.ignored.items()))
        for path, reason in self.unreadable:
            lines.append(f"skipped {path}: {reason}")
        lines.append(f"{self.untagged} files have no genre")
        return lines


def _first_genre(values: list[str], ignored: Counter) -> tuple[list[tuple[str, str]], bool]:
    """(key, spelling) of each value that names a genre, and whether it names several."""
    named = []
    for v in split_values(values):
        key = genre_key(v)
        if key:
            named.append((key, v))
        else:
            ignored[v] += 1
    return named, len({k for k, _ in named}) > 1


class _Groups:
    """Union-find over album and artist keys: a file's group is every file
    sharing an album or an artist with it, transitively."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _album_key(path: str, album: str | None) -> str:
    return "album:" + os.path.dirname(path) + "\0" + (album or "").casefold()


@dataclass(frozen=True)
class TaggedFile:
    """One file and what its owner says of it: genre values as stored
    (several, or one holding several), album and artist (None: unknown);
    size and mtime_ns as listed, to match a scan's cache."""

    path: str
    size: int
    mtime_ns: int
    genres: list[str]
    album: str | None = None
    artist: str | None = None


def read_tagged(roots: Iterable[str | os.PathLike], follow_symlinks: bool = False
                ) -> tuple[list[TaggedFile], list[tuple[str, str]]]:
    """Every audio file under ``roots`` with its genre, album and artist
    tags (tagger.tags, every format), and (path, reason) of those that
    could not be listed or read."""
    unreadable: list[tuple[str, str]] = []
    files = []
    for t in walk([os.path.abspath(os.fspath(r)) for r in roots], follow_symlinks,
                  lambda p, why: unreadable.append((p, str(why)))):
        try:
            files.append(TaggedFile(t.path, t.size, t.mtime_ns, tags.read_genres(t.path),
                                    tags.read_album(t.path), tags.read_artist(t.path)))
        except TagError as e:
            unreadable.append((t.path, str(e)))
    return files, unreadable


def read_library(roots: Iterable[str | os.PathLike], follow_symlinks: bool = False,
                 min_tracks: int = MIN_TRACKS) -> LibraryLabels:
    """The labelled files of the library under ``roots`` (read_tagged,
    label_files)."""
    files, unreadable = read_tagged(roots, follow_symlinks)
    return label_files(files, min_tracks, unreadable)


def label_files(files: Iterable[TaggedFile], min_tracks: int = MIN_TRACKS,
                unreadable: list[tuple[str, str]] | None = None) -> LibraryLabels:
    """The training labels ``files`` give by the module's rules (a beets
    library hands in its items this way). DataError when fewer than two
    genres can be learnt (the message lists the genres left out, and why)."""
    files = list(files)
    ignored: Counter = Counter()
    spellings: dict[str, Counter] = {}
    first: dict[str, str] = {}  # path -> genre key
    groups = _Groups()
    album_of: dict[str, str] = {}  # path -> its album key
    untagged = several = 0
    for f in files:
        named, many = _first_genre(f.genres, ignored)
        if not named:
            untagged += 1
            continue
        several += many
        for key, spelled in named:
            spellings.setdefault(key, Counter())[spelled] += 1
        first[f.path] = named[0][0]
        album_of[f.path] = _album_key(f.path, f.album)
        groups.find(album_of[f.path])
        if f.artist:
            groups.join("artist:" + f.artist.casefold(), album_of[f.path])
    label_of = {k: c.most_common(1)[0][0] for k, c in spellings.items()}
    kept, left_out = [], []
    for key in sorted(set(first.values()), key=lambda k: label_of[k].casefold()):
        paths = [p for p, k in first.items() if k == key]
        n_groups = len({groups.find(album_of[p]) for p in paths})
        if len(paths) < min_tracks:
            reason = f"{len(paths)} file{'s' if len(paths) != 1 else ''}, fewer than {min_tracks}"
        elif n_groups < MIN_GROUPS:
            reason = (f"all {len(paths)} files are one album or artist; cross-validation "
                      f"needs {MIN_GROUPS}")
        else:
            kept.append(key)
            continue
        left_out.append(LeftOut(label_of[key], len(paths), n_groups, reason))
    if len(kept) < 2:
        raise DataError("the library's tags give fewer than two genres to learn"
                        + "".join(f"; left out {lo.genre}: {lo.reason}" for lo in left_out))
    labels = [label_of[k] for k in kept]
    chosen = [f for f in files if first.get(f.path) in kept]
    paths = [f.path for f in chosen]
    number = {}  # a group's number, in order of appearance
    group_names = [f"{SOURCE}:{number.setdefault(groups.find(album_of[p]), len(number))}"
                   for p in paths]
    data = Dataset(paths, np.array([kept.index(first[p]) for p in paths], dtype=np.int64),
                   labels, [SOURCE] * len(paths), group_names)
    return LibraryLabels(
        data, {f.path: (f.size, f.mtime_ns) for f in chosen},
        {label_of[k]: dict(spellings[k].most_common()) for k in kept},
        left_out, untagged, several, dict(ignored.most_common()), list(unreadable or []),
        min_tracks, {f.path: (f.size, f.mtime_ns) for f in files
                     if f.path in first and first[f.path] not in kept})
