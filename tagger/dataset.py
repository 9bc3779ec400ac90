"""Labelled folders (<label>/<file>) and splits by track, never by chunk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError
from .library import walk


@dataclass(frozen=True)
class Dataset:
    """Tracks with integer labels; ``labels[y[i]]`` names the label of paths[i]."""

    paths: list[str]
    y: np.ndarray  # (n_tracks,) int
    labels: list[str]

    def counts(self) -> dict[str, int]:
        return {lab: int((self.y == i).sum()) for i, lab in enumerate(self.labels)}

    def subset(self, index) -> "Dataset":
        index = np.asarray(index)
        return Dataset([self.paths[i] for i in index], self.y[index], self.labels)


def load_folder(root: str | os.PathLike) -> Dataset:
    """Every audio file under each sub-folder of ``root``, labelled by the
    sub-folder's name (any label set: not only GTZAN's)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError("not a folder", root)
    labels = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    paths, y = [], []
    for i, label in enumerate(labels):
        for track in walk([root / label]):
            paths.append(track.path)
            y.append(i)
    found = [lab for i, lab in enumerate(labels) if i in set(y)]
    if len(found) < 2:
        raise DataError("expected <label>/<audio file> with at least two labels", root)
    # Drop empty label folders, renumbering the rest.
    remap = {labels.index(lab): j for j, lab in enumerate(found)}
    return Dataset(paths, np.array([remap[v] for v in y], dtype=np.int64), found)


def folds(data: Dataset, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified K-fold over tracks: (train index, test index) per fold."""
    from sklearn.model_selection import StratifiedKFold

    smallest = min(data.counts().values())
    if k < 2 or k > smallest:
        raise DataError(f"--cv {k}: needs 2 <= K <= the smallest label's track count ({smallest})")
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(data.y)), data.y))


def holdout(data: Dataset, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split of tracks: (train index, validation index)."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(data.y))
    tr, va = train_test_split(index, test_size=fraction, stratify=data.y, random_state=seed)
    return np.sort(tr), np.sort(va)
