"""A library's labelled files (fromtags.LibraryLabels) ready to train on,
from what a scan left in the cache: each track's mean embedding
(store.embeddings). Only tracks the cache does not hold, or holds for an
older version of the file, are decoded."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np

from ..audio.features import MUSICNN_FRONTEND
from ..model.card import ModelCard, read_card
from ..model.device import precision_on
from .dataset import Dataset, max_folds
from .fromtags import MIN_GROUPS, SOURCE, LibraryLabels
from .settings import Progress, Settings
from .train import (CrossValidated, CVRun, Prepared, chunks_per_track, cross_validate,
                    embeddings, fit_musicnn, run_cv_prepared, train)


def prepare_library(labels: LibraryLabels, db: str | os.PathLike, settings: Settings,
                    say: Progress = print) -> tuple[Prepared, list[np.ndarray]]:
    """A Prepared (musicnn) of the library's labelled files, and the mean
    embeddings of its files of genres left out (``labels.outside``): cached
    embeddings as they are, the rest decoded and embedded at the precision
    a scan runs (``settings.precision``, "auto" by default). Each track's
    embedding is its mean, one row (n = 1). A track that fails to decode is
    left out, and said."""
    from ..store.cache import Cache

    data = labels.data
    cache = Cache(db)
    try:
        found = cache.embeddings({**labels.identity, **labels.outside})
    finally:
        cache.close()
    wanted = data.paths + list(labels.outside)
    say(f"{len(found)} of {len(wanted)} tracks' embeddings are in the cache")
    emb = {p: e[None, :] for p, e in found.items()}
    silent = dict.fromkeys(found, False)  # a scan's music; silence is the scan's to flag
    variation = dict.fromkeys(found, np.nan)  # unknown: never "steady"
    missing = [p for p in wanted if p not in found]
    precision = "scan"  # the cached embeddings': whatever the scans ran
    if missing:
        precision = precision_on("auto", settings.precision, settings.verbose)  # loads TensorFlow
        # Embedded at the scan's precision, like the cached ones: the head
        # and its unsure rule are fitted and calibrated on what a scan sees.
        say(f"decoding {len(missing)} tracks")
        part_data, chunks = chunks_per_track(Dataset(missing, np.zeros(len(missing), int), [""]),
                                             MUSICNN_FRONTEND, settings.jobs, say)
        say(f"computing musicnn embeddings of {sum(map(len, chunks))} chunks in {precision}")
        part = Prepared(part_data, chunks, embeddings(chunks, settings.verbose, precision))
        for i, p in enumerate(part.data.paths):
            emb[p] = part.emb[i].mean(axis=0, keepdims=True)
            silent[p], variation[p] = bool(part.silent[i]), float(part.variation[i])
    data = data.subset([i for i, p in enumerate(data.paths) if p in emb])
    prep = Prepared(data, None, [emb[p] for p in data.paths], None, precision,
                    np.array([silent[p] for p in data.paths]),
                    np.array([variation[p] for p in data.paths]))
    return prep, [emb[p] for p in labels.outside if p in emb]


DEFAULT_FOLDS = 4  # a library's CV when none is asked for: the card's scores, the unsure rule


def cross_validate_library(labels: LibraryLabels, db: str | os.PathLike, settings: Settings,
                           k: int | None = None, say: Progress = print) -> CVRun:
    """K-fold CV (by album and artist) of a head on the library's own
    labels, and the unsure rule calibrated on it (calibration.calibrate).
    K is at most what the genres' groups allow (dataset.max_folds), and
    said.

    The library's files of genres left out are music the model will meet
    and cannot name: the write threshold is calibrated with them too, as
    writes that are wrong whenever they are written (the head fitted on
    every labelled file predicts them; none of them trained it)."""
    prep, outside = prepare_library(labels, db, settings, say)
    most = max_folds(prep.data)
    k = k or DEFAULT_FOLDS
    if k > most:
        say(f"{k}-fold CV needs {k} albums by different artists in every genre: running {most}")
        k = most
    if not outside:
        return run_cv_prepared(prep, settings, k, say)
    cv = cross_validate(prep, settings, k, say)
    say(f"calibrating the writes with {len(outside)} files of the genres left out")
    data = prep.data
    seen = fit_musicnn(prep, settings).verdicts(
        Prepared(Dataset([f"outside:{i}" for i in range(len(outside))],
                         np.zeros(len(outside), int), data.labels), None, outside),
        settings.aggregation)
    both = Dataset(data.paths + [f"outside:{i}" for i in range(len(outside))],
                   np.concatenate([data.y, np.full(len(outside), -1)]), data.labels,
                   data.sources + [SOURCE] * len(outside))
    extend = lambda held, key: None if held is None else np.concatenate([held, seen[key]])  # noqa: E731
    # The per-genre limits and the far limit come from the labelled tracks'
    # CV alone (calibrate's ``fit``); the left-out files only count as writes.
    trust = CrossValidated(
        extend(cv.probs, "probs"), extend(cv.distance, "distance"),
        np.concatenate([cv.silent, np.zeros(len(outside), bool)]), cv.folds,
        np.concatenate([cv.variation, np.full(len(outside), np.nan)]),
        extend(cv.genre_distance, "genre_distance"), extend(cv.tag_distance, "tag_distance"),
    ).calibrate(both, fit=np.arange(len(both.y)) < len(data.y))
    return CVRun(prep, cv, trust, cv.scores(data, trust, settings.seed))


@dataclass
class Learnt:
    """What training on a library's own genres gave: the labels taken (and
    left out), the cross-validation (scores, the calibrated unsure rule)
    and the saved model's card."""

    labels: LibraryLabels
    run: CVRun
    card: ModelCard

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
    train(run.prep, out, settings, say, run, card)
    return Learnt(labels, run, read_card(out))
