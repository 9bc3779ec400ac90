"""Labelled folders (<label>/<file>) and cross-validation splits that never
put one track, or one artist, on both sides."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..library import walk

MANIFEST = "manifest.csv"  # optional: file,<...>,artist rows (relative paths)


@dataclass(frozen=True)
class Dataset:
    """Tracks with integer labels; ``labels[y[i]]`` names the label of paths[i].

    ``sources[i]`` names the folder the track came from; ``groups[i]`` is what
    a split keeps on one side: "<source>:<artist>" where the folder's
    manifest names the artist, the track's path otherwise."""

    paths: list[str]
    y: np.ndarray  # (n_tracks,) int
    labels: list[str]
    sources: list[str] | None = None
    groups: list[str] | None = None

    def __post_init__(self):
        # Defaults: one source, every track its own group.
        if self.sources is None:
            object.__setattr__(self, "sources", [""] * len(self.paths))
        if self.groups is None:
            object.__setattr__(self, "groups", list(self.paths))

    def counts(self) -> dict[str, int]:
        return {lab: int((self.y == i).sum()) for i, lab in enumerate(self.labels)}

    def source_names(self) -> list[str]:
        return list(dict.fromkeys(self.sources))

    def split_by(self) -> dict[str, str]:
        """source -> "artist" or "track": what its CV splits keep together."""
        return {s: "track" if all(g == p for g, p, t in zip(self.groups, self.paths, self.sources)
                                  if t == s) else "artist"
                for s in self.source_names()}

    def subset(self, index) -> "Dataset":
        index = np.asarray(index, dtype=np.int64)
        return Dataset([self.paths[i] for i in index], self.y[index], self.labels,
                       [self.sources[i] for i in index], [self.groups[i] for i in index])


def load_folder(root: str | os.PathLike) -> Dataset:
    """Every audio file under each sub-folder of ``root``, labelled by the
    sub-folder's name (any label set: not only GTZAN's). Where ``root`` holds
    a manifest.csv with ``file`` and ``artist`` columns, the tracks of one
    artist form one group for the splits."""
    root = Path(root)
    if not root.is_dir():
        raise DataError("not a folder", root)
    labels = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    paths, names = [], []
    for label in labels:
        for track in walk([root / label]):
            paths.append(track.path)
            names.append(label)
    found = sorted(set(names))
    if len(found) < 2:
        raise DataError("expected <label>/<audio file> with at least two labels", root)
    artists = _artists(root)
    source = root.resolve().name
    groups = []
    for p in paths:
        artist = artists.get(Path(p).resolve().relative_to(root.resolve()).as_posix())
        groups.append(f"{source}:{artist}" if artist else p)
    return Dataset(paths, np.array([found.index(n) for n in names], dtype=np.int64), found,
                   [source] * len(paths), groups)


def _artists(root: Path) -> dict[str, str]:
    """file -> artist from the folder's manifest.csv (empty without one, or
    without an artist column)."""
    try:
        with open(root / MANIFEST, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"unreadable {MANIFEST}: {e}", root) from e
    return {r["file"]: r["artist"].strip() for r in rows
            if r.get("file") and (r.get("artist") or "").strip()}


def load_folders(roots) -> Dataset:
    """Several labelled folders as one dataset: the union of their labels
    (one name, one label: "rock" of two folders is the same label)."""
    parts = [load_folder(r) for r in roots]
    names = [p.sources[0] for p in parts]
    if len(set(names)) < len(names):
        raise DataError("two folders have the same name: " + ", ".join(names))
    labels = sorted({lab for p in parts for lab in p.labels})
    return Dataset([x for p in parts for x in p.paths],
                   np.array([labels.index(p.labels[v]) for p in parts for v in p.y], dtype=np.int64),
                   labels, [x for p in parts for x in p.sources],
                   [x for p in parts for x in p.groups])


def max_folds(data: Dataset) -> int:
    """The most folds the data allows: every (source, label) needs a group
    (artist or track) in each fold."""
    strata = [f"{s}\0{v}" for s, v in zip(data.sources, data.y)]
    return min(len({g for g, st in zip(data.groups, strata) if st == s}) for s in set(strata))


def folds(data: Dataset, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold over groups (an artist, or a track), stratified by source and
    label as far as the groups allow: (train index, test index) per fold.
    A group is never on both sides."""
    from sklearn.model_selection import StratifiedGroupKFold

    strata = np.array([f"{s}\0{v}" for s, v in zip(data.sources, data.y)])
    smallest = max_folds(data)
    if k < 2 or k > smallest:
        raise DataError(f"--cv {k}: needs 2 <= K <= the smallest label's number of "
                        f"artists or tracks ({smallest})")
    skf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(data.y)), strata, np.array(data.groups)))


def holdout(data: Dataset, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split of tracks: (train index, validation index)."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(data.y))
    tr, va = train_test_split(index, test_size=fraction, stratify=data.y, random_state=seed)
    return np.sort(tr), np.sort(va)
