"""Labelled folders -> decode once -> cross-validate -> fit -> save a model folder.

``musicnn`` (the default) keeps the pretrained MSD musicnn backbone frozen and
fits a class-balanced multinomial logistic regression on its chunk
embeddings; the fitted scaler and weights become the Keras genre head, so the
saved model is one network from log-mel chunk to genre probabilities.
``cnn`` and ``crnn`` are trained from scratch on 4 s chunks with Keras.
Every split is by artist where the folders name them, else by track: all
chunks of a track sit on one side. The head (head.py), the "unsure" rule
(calibration.py), the scratch networks (scratch.py) and the safe saving of the
folder (modelstore.py) each have their own module; this one runs them.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from .calibration import calibrate, fit_reference, reference_distance
from ..constants import (DEFAULT_EPOCHS, MUSICNN_CHUNK_FRAMES, MUSICNN_N_MELS, MUSICNN_WEIGHTS,
                        SCRATCH_CHUNK_FRAMES, SCRATCH_CHUNK_HOP_FRAMES)
from .dataset import Dataset, folds, max_folds
from ..model.device import precision_on
from ..errors import DataError, ModelError
from ..audio.features import MUSICNN_FRONTEND, Chunked, FrontEnd
from ..model.framewise import functions, pool_chunks
from .head import HEAD_C, fit_head, head_probs
from ..model.inference import STEADY_DB, aggregate
from .modelstore import save
from .scratch import fit_scratch, predict_scratch
from ..model.tfruntime import import_tensorflow

ARCHS = ("musicnn", "cnn", "crnn")


def frontend_for(arch: str) -> FrontEnd:
    if arch not in ARCHS:
        raise ModelError(f"unknown architecture '{arch}' (choose from {', '.join(ARCHS)})")
    if arch == "musicnn":
        return MUSICNN_FRONTEND
    return replace(MUSICNN_FRONTEND, chunk_frames=SCRATCH_CHUNK_FRAMES,
                   chunk_hop_frames=SCRATCH_CHUNK_HOP_FRAMES)


@dataclass
class Settings:
    arch: str = "musicnn"
    epochs: int = DEFAULT_EPOCHS
    head_c: float = HEAD_C
    aggregation: str = "geometric"  # chunk probabilities -> track (model.aggregate)
    jobs: int | None = None
    seed: int = 0
    verbose: bool = False
    # musicnn: the precision of the held-out tracks' embeddings in CV, to
    # score the model as a scan at that precision runs it; heads are always
    # fitted on float32 embeddings.
    precision: str = "float32"


Progress = Callable[[str], None]


def chunks_per_track(data: Dataset, fe: FrontEnd, jobs: int | None,
                     say: Progress = print) -> tuple[Dataset, list[Chunked]]:
    """Decode every track once: its chunked log-mel. Tracks that fail to
    decode are left out, and said."""
    from ..pipeline import decode_chunks

    found: dict[str, Chunked] = {}
    for item, c in decode_chunks(data.paths, fe, jobs):
        if c is None:
            say(f"skipped {item.path}: {item.error}")
        else:
            found[item.path] = c
    keep = [i for i, p in enumerate(data.paths) if p in found]
    if not keep:
        raise DataError("no track could be decoded")
    kept = data.subset(keep)
    return kept, [found[p] for p in kept.paths]


def load_musicnn_weights(backbone) -> None:
    """The pretrained musicnn weights (models/musicnn) into ``backbone``; a
    missing or unreadable file is a ModelError naming it."""
    try:
        backbone.load_weights(MUSICNN_WEIGHTS)
    except Exception as e:  # noqa: BLE001 - h5py/Keras raise many kinds
        raise ModelError(f"cannot load the musicnn weights: {e}", MUSICNN_WEIGHTS) from e


def embeddings(tracks: list[Chunked], verbose: bool = False,
               precision: str = "float32") -> list[np.ndarray]:
    """The frozen musicnn backbone's embedding of every chunk, computed
    frame-wise as the scan does (framewise.pool_chunks): per track (n, 1706)."""
    tf = import_tensorflow(verbose)
    from ..model.network import musicnn_backbone

    backbone = musicnn_backbone(MUSICNN_N_MELS, None)
    load_musicnn_weights(backbone)
    frames_fn, embed_fn = functions(tf, backbone, precision)
    return [embed_fn(pool_chunks(frames_fn, t)).numpy() for t in tracks]


def musicnn_network(head: dict, n_labels: int, ref: dict | None = None):
    """The full Keras model: frozen backbone + the fitted head (+ the
    reference outputs of model.Trust)."""
    from ..model.network import genre_head, musicnn_backbone, musicnn_genre_model

    backbone = musicnn_backbone(MUSICNN_N_MELS, MUSICNN_CHUNK_FRAMES)
    load_musicnn_weights(backbone)
    shape = None if ref is None else ref["points"].shape[::-1]
    net = genre_head(n_labels, reference=shape)
    net.get_layer("genres").set_weights([head["W"], head["b"]])
    if ref is not None:
        net.get_layer("ood_projection").set_weights([ref["projection"], ref["offset"]])
        # q . r - |r|^2 / 2 for every training point r.
        points = ref["points"]
        net.get_layer("ood_reference").set_weights(
            [points.T, -(points ** 2).sum(axis=1) / 2])
    return musicnn_genre_model(backbone, net)


# -- the commands' work ----------------------------------------------------------

@dataclass
class Prepared:
    """A dataset decoded once: per-track chunks, and for musicnn the frozen
    backbone's embeddings, shared by cross-validation and the final fit.

    From a scan's cache (training.fromcache) there are no chunks: ``emb``
    holds each track's mean embedding as one row (the head and the unsure
    rule only use the mean), and ``silent`` / ``variation`` what is known."""

    data: Dataset
    chunks: list[Chunked] | None
    emb: list[np.ndarray] | None
    test_emb: list[np.ndarray] | None = None  # CV's held-out embeddings, if not emb
    precision: str = "float32"  # of test_emb (or emb)
    silent: np.ndarray | None = None  # (n_tracks,) bool: model.is_silent
    variation: np.ndarray | None = None  # (n_tracks,) dB: model.band_variation; NaN unknown
    n_chunks: int | None = None  # chunks of all tracks, where known

    def __post_init__(self):
        if self.chunks is not None and self.silent is None:
            from ..model.inference import band_variation, is_silent

            fps = MUSICNN_FRONTEND.frames_per_second  # every architecture's front-end rate
            self.silent = np.array([is_silent(c.spec) for c in self.chunks])
            self.variation = np.array([band_variation(c.spec, fps) for c in self.chunks])
            self.n_chunks = int(sum(map(len, self.chunks)))


def prepare(data: Dataset, settings: Settings, say: Progress = print) -> Prepared:
    fe = frontend_for(settings.arch)
    say(f"decoding {len(data.paths)} tracks")
    data, chunks = chunks_per_track(data, fe, settings.jobs, say)
    if settings.arch != "musicnn":
        return Prepared(data, chunks, None)
    say(f"computing musicnn embeddings of {sum(map(len, chunks))} chunks")
    emb = embeddings(chunks, settings.verbose)
    precision = precision_on("auto", settings.precision, settings.verbose)
    test_emb = None
    if precision != "float32":
        say(f"computing them again in {precision}, as a scan runs them, for the held-out tracks")
        test_emb = embeddings(chunks, settings.verbose, precision)
    return Prepared(data, chunks, emb, test_emb, precision)


@dataclass
class CrossValidated:
    """Per-track results of K-fold CV, each from the fold that held the
    track out: probabilities (n, n_labels), distance to the nearest training
    track of that fold (musicnn; NaN otherwise), whether it is silent and
    how much its loudness varies (model.band_variation, dB)."""

    probs: np.ndarray
    distance: np.ndarray
    silent: np.ndarray
    folds: int
    variation: np.ndarray

    def unsure(self, trust: dict) -> np.ndarray:
        """model.Trust's verdict on every track under ``trust`` (calibrate)."""
        from ..model.inference import Trust

        rule = Trust.from_meta({"unsure": trust})
        return np.array([rule.unsure(c, None if np.isnan(d) else d, s, v)
                         for c, d, s, v in zip(self.probs.max(axis=1), self.distance,
                                               self.silent, self.variation)])

    def scores(self, data: Dataset, trust: dict, seed: int) -> dict:
        """The CV's scores per source and overall (evaluate.source_scores),
        with the writes ``trust`` (calibrate) makes, and the rule itself."""
        from .evaluate import source_scores

        rule = {k: trust[k] for k in ("min_confidence", "max_distance", "min_variation")
                if k in trust}
        return {"folds": self.folds, "seed": seed, "by": data.split_by(), "unsure_rule": rule,
                **source_scores(data, self.probs, self.unsure(trust))}


def cross_validate(prep: Prepared, settings: Settings, k: int, say: Progress = print
                   ) -> CrossValidated:
    """K-fold CV by artist where the folders name them, by track otherwise
    (dataset.folds)."""
    data, chunks, emb = prep.data, prep.chunks, prep.emb
    fe = frontend_for(settings.arch)
    n = len(data.labels)
    probs = np.zeros((len(data.y), n))
    distance = np.full(len(data.y), np.nan)
    for f, (tr, te) in enumerate(folds(data, k, settings.seed), 1):
        say(f"fold {f}/{k}: training on {len(tr)} tracks, testing on {len(te)}")
        if settings.arch == "musicnn":
            train_emb = [emb[i] for i in tr]
            head = fit_head(train_emb, data.y[tr], n, settings.head_c, settings.seed,
                            [data.sources[i] for i in tr])
            ref = fit_reference(train_emb)
            test = prep.test_emb if prep.test_emb is not None else emb
            chunk_probs = [head_probs(head, test[i]) for i in te]
            distance[te] = [reference_distance(ref, test[i]) for i in te]
        else:
            model = fit_scratch(settings.arch, [chunks[i].take() for i in tr], data.y[tr], n,
                                fe, settings, say)
            chunk_probs = predict_scratch(model, [chunks[i].take() for i in te])
        for i, p in zip(te, chunk_probs):
            probs[i] = [c for _, c in sorted(
                ((data.labels.index(g), c) for g, c in
                 aggregate(p, data.labels, settings.aggregation).genres))]
    return CrossValidated(probs, distance, prep.silent, k, prep.variation)


@dataclass
class CVRun:
    """A cross-validation as ``tagger train --cv`` and ``tagger evaluate --cv``
    run it: the decoded data, the held-out predictions, the "unsure" rule
    calibrated on them, and their scores."""

    prep: Prepared
    cv: CrossValidated
    trust: dict
    scores: dict


def run_cv(data: Dataset, settings: Settings, k: int, say: Progress = print) -> CVRun:
    """Decode once, K-fold cross-validate, calibrate the unsure rule on the
    CV's predictions and score them (per source, with the default writes)."""
    prep = prepare(data, settings, say)
    cv = cross_validate(prep, settings, k, say)
    trust = calibrate(prep.data, cv.probs, cv.distance)
    return CVRun(prep, cv, trust, cv.scores(prep.data, trust, settings.seed))


CALIBRATION_FOLDS = 4  # musicnn's "unsure" is calibrated by this CV when train runs none


def train(prep: Prepared, out: str | os.PathLike, settings: Settings, say: Progress = print,
          run: CVRun | None = None, card: dict | None = None) -> dict:
    """Fit on every track and save the model folder ``out``. The "unsure"
    rule (model.Trust) and the scores are ``run``'s (run_cv on ``prep``); a
    musicnn model without one runs a CALIBRATION_FOLDS-fold CV for the rule
    (the embeddings are there, it takes seconds). ``card``: more entries for
    the metadata (e.g. what a library's tags gave, fromtags)."""
    data, chunks = prep.data, prep.chunks
    fe = frontend_for(settings.arch)
    n = len(data.labels)
    say(f"training {settings.arch} on {len(data.y)} tracks"
        + ("" if prep.n_chunks is None else f", {prep.n_chunks} chunks"))
    scores = {} if run is None else {"cv": run.scores}
    cv, calibrated = (None, None) if run is None else (run.cv, run.trust)
    if settings.arch == "musicnn" and cv is None:
        k = min(CALIBRATION_FOLDS, max_folds(data))
        if k >= 2:
            cv = cross_validate(prep, settings, k, lambda m: None)
            calibrated = calibrate(data, cv.probs, cv.distance)
    trust = None
    if settings.arch == "musicnn":
        head = fit_head(prep.emb, data.y, n, settings.head_c, settings.seed, data.sources)
        ref = fit_reference(prep.emb)
        network = musicnn_network(head, n, ref)
        trust = dict(calibrated or {"min_confidence": 0.0, "max_distance": None,
                                    "min_variation": STEADY_DB})
        trust.update({"dims": int(ref["points"].shape[1]), "points": int(ref["points"].shape[0]),
                      "calibrated_by": None if cv is None else f"{cv.folds}-fold CV"})
        scores["min_confidence"] = trust["min_confidence"]
    else:
        network = fit_scratch(settings.arch, [c.take() for c in chunks], data.y, n, fe,
                              settings, say)
        if calibrated is not None:
            scores["min_confidence"] = calibrated["min_confidence"]
    meta = {
        "name": Path(out).name,
        "arch": settings.arch,
        "labels": data.labels,
        "frontend": fe.to_dict(),
        "log": "log10(10000 * mel + 1)",
        "aggregation": settings.aggregation,
        "training": {
            "head_c": settings.head_c if settings.arch == "musicnn" else None,
            "epochs": settings.epochs if settings.arch != "musicnn" else None,
            "seed": settings.seed,
            "backbone": "MSD musicnn (Pons & Serra, ISC licence), frozen"
            if settings.arch == "musicnn" else None,
        },
        "data": {"tracks": len(data.y), "chunks": prep.n_chunks,
                 "per_label": data.counts(),
                 "sources": {s: {"tracks": data.sources.count(s), "split_by": by}
                             for s, by in data.split_by().items()}},
        "scores": scores,
        "created": dt.date.today().isoformat(),
        "code_version": __version__,
    }
    if trust is not None:
        meta["unsure"] = trust
    meta.update(card or {})
    save(network, meta, out)
    return meta


