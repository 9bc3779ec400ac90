"""A library's labelled files (fromtags.LibraryLabels) ready to train on,
from what a scan left in the cache: each track's mean embedding
(store.embeddings). Only tracks the cache does not hold, or holds for an
older version of the file, are decoded."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from ..model.device import precision_on
from .dataset import max_folds
from .fromtags import MIN_GROUPS, LibraryLabels
from ..audio.features import MUSICNN_FRONTEND
from .train import (CVRun, Prepared, Progress, Settings, chunks_per_track, embeddings,
                    run_cv_prepared, train)


def prepare_library(labels: LibraryLabels, db: str | os.PathLike, settings: Settings,
                    say: Progress = print) -> Prepared:
    """A Prepared (musicnn) of the library's labelled files: cached
    embeddings as they are, the rest decoded and embedded at the precision
    a scan runs (``settings.precision``, "auto" by default). Each track's
    embedding is its mean, one row (n = 1). A track that fails to decode is
    left out, and said."""
    from ..store.cache import Cache
    from ..store.embeddings import cached_embeddings

    data = labels.data
    cache = Cache(db)
    try:
        found = cached_embeddings(cache, labels.identity)
    finally:
        cache.close()
    say(f"{len(found)} of {len(data.paths)} tracks' embeddings are in the cache")
    emb = {p: e[None, :] for p, e in found.items()}
    silent = dict.fromkeys(found, False)  # a scan's music; silence is the scan's to flag
    variation = dict.fromkeys(found, np.nan)  # unknown: never "steady"
    missing = [i for i, p in enumerate(data.paths) if p not in found]
    precision = "scan"  # the cached embeddings': whatever the scans ran
    if missing:
        precision = precision_on("auto", settings.precision, settings.verbose)  # loads TensorFlow
        # Embedded at the scan's precision, like the cached ones: the head
        # and its unsure rule are fitted and calibrated on what a scan sees.
        say(f"decoding {len(missing)} tracks")
        part_data, chunks = chunks_per_track(data.subset(missing), MUSICNN_FRONTEND,
                                             settings.jobs, say)
        say(f"computing musicnn embeddings of {sum(map(len, chunks))} chunks in {precision}")
        part = Prepared(part_data, chunks, embeddings(chunks, settings.verbose, precision))
        for i, p in enumerate(part.data.paths):
            emb[p] = part.emb[i].mean(axis=0, keepdims=True)
            silent[p], variation[p] = bool(part.silent[i]), float(part.variation[i])
    data = data.subset([i for i, p in enumerate(data.paths) if p in emb])
    return Prepared(data, None, [emb[p] for p in data.paths], None, precision,
                    np.array([silent[p] for p in data.paths]),
                    np.array([variation[p] for p in data.paths]))


DEFAULT_FOLDS = 4  # a library's CV when none is asked for: the card's scores, the unsure rule


def cross_validate_library(labels: LibraryLabels, db: str | os.PathLike, settings: Settings,
                           k: int | None = None, say: Progress = print) -> CVRun:
    """K-fold CV (by album and artist) of a head on the library's own
    labels, the unsure rule calibrated on it (train.run_cv_prepared). K is
    at most what the genres' groups allow (dataset.max_folds), and said."""
    prep = prepare_library(labels, db, settings, say)
    most = max_folds(prep.data)
    k = k or DEFAULT_FOLDS
    if k > most:
        say(f"{k}-fold CV needs {k} albums by different artists in every genre: running {most}")
        k = most
    return run_cv_prepared(prep, settings, k, say)


@dataclass
class Learnt:
    """What training on a library's own genres gave: the labels taken (and
    left out), the cross-validation (scores, the calibrated unsure rule)
    and the saved model's metadata."""

    labels: LibraryLabels
    run: CVRun
    metadata: dict

    @property
    def min_confidence(self) -> float:
        return self.run.trust["min_confidence"]


def train_library(labels: LibraryLabels, db: str | os.PathLike, out: str | os.PathLike,
                  settings: Settings, k: int | None = None, say: Progress = print) -> Learnt:
    """Cross-validate (cross_validate_library), then fit a musicnn head on
    every labelled file and save the model folder ``out``: labels in the
    library's spelling, written as they are (``display_names``), the CV's
    threshold and unsure rule, and in ``from_tags`` what the tags gave
    (spellings, genres left out and why, the rules)."""
    run = cross_validate_library(labels, db, settings, k, say)
    card = {"display_names": {lab: lab for lab in run.prep.data.labels},
            "from_tags": {
                "spellings": labels.spellings,
                "left_out": [asdict(lo) for lo in labels.left_out],
                "untagged_files": labels.untagged,
                "several_genres": f"{labels.several} files; each learnt as its first genre",
                "ignored_values": labels.ignored,
                "rules": {"min_tracks": labels.min_tracks, "min_groups": MIN_GROUPS,
                          "groups": "album (folder + album tag) joined with artist (artist tag)"},
            }}
    return Learnt(labels, run, train(run.prep, out, settings, say, run, card))
