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
import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import __version__
from .calibration import calibrate, fit_reference, fit_tag_profile, head_outputs
from ..constants import (MUSICNN_CHUNK_FRAMES, MUSICNN_N_MELS, MUSICNN_WEIGHTS,
                        SCRATCH_CHUNK_FRAMES, SCRATCH_CHUNK_HOP_FRAMES)
from .dataset import Dataset, folds, max_folds
from ..model.device import precision_on
from ..errors import DataError, ModelError
from ..audio.features import MUSICNN_FRONTEND, Chunked, FrontEnd
from ..model.framewise import functions, pool_chunks
from .head import fit_head, head_probs
from ..model.inference import STEADY_DB, aggregate
from .modelstore import save
from .scratch import fit_scratch, predict_scratch
from .settings import Progress, Settings
from ..model.tfruntime import import_tensorflow

ARCHS = ("musicnn", "cnn", "crnn")


def frontend_for(arch: str) -> FrontEnd:
    if arch not in ARCHS:
        raise ModelError(f"unknown architecture '{arch}' (choose from {', '.join(ARCHS)})")
    if arch == "musicnn":
        return MUSICNN_FRONTEND
    return replace(MUSICNN_FRONTEND, chunk_frames=SCRATCH_CHUNK_FRAMES,
                   chunk_hop_frames=SCRATCH_CHUNK_HOP_FRAMES)


def chunks_per_track(data: Dataset, fe: FrontEnd, jobs: int | None,
                     say: Progress = print) -> tuple[Dataset, list[Chunked]]:
    """Decode every track once: its chunked log-mel. Tracks that fail to
    decode are left out, and said."""
    from ..audio.chunks import decode_chunks

    found: dict[str, Chunked] = {}
    for item, c in decode_chunks(data.paths, fe, jobs):
        if c is None:
            say(f"skipped {item.path}: {item.no_spec_reason}")
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


def musicnn_network(head: dict, n_labels: int, ref: dict | None = None, tags: dict | None = None):
    """The full Keras model: frozen backbone + the fitted head (+ the
    reference and tag outputs of model.Trust)."""
    from ..model.network import genre_head, musicnn_backbone, musicnn_genre_model

    backbone = musicnn_backbone(MUSICNN_N_MELS, MUSICNN_CHUNK_FRAMES)
    load_musicnn_weights(backbone)
    shape = None if ref is None else ref["points"].shape[::-1]
    net = genre_head(n_labels, reference=shape, tags=tags is not None)
    net.get_layer("genres").set_weights([head["W"], head["b"]])
    if tags is not None:
        net.get_layer("msd_tags").set_weights([tags["projection"], tags["offset"]])
    if ref is not None:
        net.get_layer("ood_projection").set_weights([ref["projection"], ref["offset"]])
        # q . r - |r|^2 / 2 for every training point r.
        points = ref["points"]
        net.get_layer("ood_reference").set_weights(
            [points.T, -(points ** 2).sum(axis=1) / 2])
    return musicnn_genre_model(backbone, net)


@functools.lru_cache(maxsize=1)
def msd_tag_layer() -> tuple[np.ndarray, np.ndarray]:
    """musicnn's MSD tag layer (dense_1): kernel (200, 50) and bias (50,),
    from the penultimate layer to the 50 tag logits (read once)."""
    import_tensorflow()
    from ..model.network import musicnn_backbone

    backbone = musicnn_backbone(MUSICNN_N_MELS, MUSICNN_CHUNK_FRAMES)
    load_musicnn_weights(backbone)
    kernel, bias = backbone.get_layer("dense_1").get_weights()
    return kernel, bias


@dataclass
class Fitted:
    """A musicnn model in numpy form: the head (head.fit_head), the training
    tracks as reference points (calibration.fit_reference), their genres,
    and each genre's MSD tags (calibration.fit_tag_profile)."""

    head: dict
    ref: dict
    point_labels: np.ndarray
    tags: dict

    def trust(self, rule: dict | None = None) -> dict:
        """metadata.json's "unsure": the calibrated ``rule`` (calibrate) and
        what model.Trust needs of the fit to apply it."""
        return {**(rule or {}), "dims": int(self.ref["points"].shape[1]),
                "points": int(self.ref["points"].shape[0]),
                "point_labels": self.point_labels.tolist(),
                "tag_centre": np.round(self.tags["centre"].astype(float), 4).tolist(),
                "tag_spread": np.round(self.tags["spread"].astype(float), 4).tolist()}

    def verdicts(self, prep: "Prepared", aggregation: str) -> dict[str, np.ndarray]:
        """What a scan sees of the tracks of ``prep``, from their held-out
        embeddings (test_emb, the scan's precision) if any: ``probs`` (n,
        n_labels) and model.Trust's evidence for the top genre (n,):
        ``distance``, ``genre_distance``, ``tag_distance``."""
        from ..model.trust import Trust

        emb = prep.test_emb if prep.test_emb is not None else prep.emb
        probs = track_probs([head_probs(self.head, e) for e in emb], prep.data.labels,
                            aggregation)
        trust = Trust.from_dict(self.trust())
        found = [trust.evidence(head_outputs(self.ref, e, self.tags), int(g))
                 for e, g in zip(emb, probs.argmax(axis=1))]
        return {"probs": probs, **{k: np.array([f[k] for f in found]) for k in found[0]}}


def fit_musicnn(prep: "Prepared", settings: Settings) -> Fitted:
    """The head, the reference points and the tag profile fitted on every
    track of ``prep`` (float32 embeddings)."""
    data = prep.data
    head = fit_head(prep.emb, data.y, len(data.labels), settings.head_c, settings.seed,
                    data.sources)
    return Fitted(head, fit_reference(prep.emb), np.asarray(data.y),
                  fit_tag_profile(prep.emb, data.y, len(data.labels), *msd_tag_layer()))


# -- the commands' work ----------------------------------------------------------

@dataclass
class Prepared:
    """A dataset decoded once: per-track chunks, and for musicnn the frozen
    backbone's embeddings, shared by cross-validation and the final fit;
    per track whether it is silent and how much its loudness varies
    (model.band_variation, dB), for the unsure rule.

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

    def subset(self, index) -> "Prepared":
        """The same, for the tracks ``index`` (positions or a boolean mask)."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index)
        pick = lambda items: None if items is None else [items[i] for i in index]  # noqa: E731
        return Prepared(self.data.subset(index), pick(self.chunks), pick(self.emb),
                        pick(self.test_emb), self.precision, self.silent[index],
                        self.variation[index])


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


# What calibrate fits: the rule a CV's scores name (the rest of metadata.json's
# "unsure" describes the fitted model: Fitted.trust).
RULE_KEYS = ("min_confidence", "max_distance", "min_variation", "max_genre_distance",
             "max_tag_distance")


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
    genre_distance: np.ndarray | None = None  # to the top genre's nearest track (musicnn)
    tag_distance: np.ndarray | None = None  # of the MSD tags from the top genre's (musicnn)

    def calibrate(self, data: Dataset, fit: np.ndarray | None = None) -> dict:
        """The unsure rule calibrated on these predictions (calibrate; ``fit``:
        the tracks whose distances set the limits, default all)."""
        return calibrate(data, self.probs, self.distance, self.genre_distance,
                         self.tag_distance, fit=fit)

    def unsure(self, trust: dict) -> np.ndarray:
        """model.Trust's verdict on every track under ``trust`` (calibrate)."""
        from ..model.trust import Trust

        rule = Trust.from_dict(trust)
        n = len(self.probs)
        nan = np.full(n, np.nan)
        value = lambda x: None if np.isnan(x) else float(x)  # noqa: E731
        return np.array([rule.unsure(c, value(d), s, v, int(g), value(gd), value(td))
                         for c, d, s, v, g, gd, td in zip(
                             self.probs.max(axis=1), self.distance, self.silent,
                             self.variation, self.probs.argmax(axis=1),
                             nan if self.genre_distance is None else self.genre_distance,
                             nan if self.tag_distance is None else self.tag_distance)])

    def scores(self, data: Dataset, trust: dict, seed: int) -> dict:
        """The CV's scores per source and overall (evaluate.source_scores),
        with the writes ``trust`` (calibrate) makes, and the rule itself."""
        from .evaluate import source_scores

        rule = {k: trust[k] for k in RULE_KEYS if k in trust}
        return {"folds": self.folds, "seed": seed, "by": data.split_by(), "unsure_rule": rule,
                **source_scores(data, self.probs, self.unsure(trust))}


def cross_validate(prep: Prepared, settings: Settings, k: int, say: Progress = print
                   ) -> CrossValidated:
    """K-fold CV by artist where the folders name them, by track otherwise
    (dataset.folds)."""
    data, chunks = prep.data, prep.chunks
    fe = frontend_for(settings.arch)
    n = len(data.labels)
    probs = np.zeros((len(data.y), n))
    evidence = {}
    for f, (tr, te) in enumerate(folds(data, k, settings.seed), 1):
        say(f"fold {f}/{k}: training on {len(tr)} tracks, testing on {len(te)}")
        if settings.arch == "musicnn":
            found = fit_musicnn(prep.subset(tr), settings).verdicts(prep.subset(te),
                                                                    settings.aggregation)
            probs[te] = found.pop("probs")
            for key, values in found.items():
                evidence.setdefault(key, np.full(len(data.y), np.nan))[te] = values
        else:
            model = fit_scratch(settings.arch, [chunks[i].take() for i in tr], data.y[tr], n,
                                fe, settings, say)
            probs[te] = track_probs(predict_scratch(model, [chunks[i].take() for i in te]),
                                    data.labels, settings.aggregation)
    return CrossValidated(probs, evidence.get("distance", np.full(len(data.y), np.nan)),
                          prep.silent, k, prep.variation, evidence.get("genre_distance"),
                          evidence.get("tag_distance"))


def track_probs(chunk_probs: list[np.ndarray], labels: list[str], aggregation: str
                ) -> np.ndarray:
    """Per track chunk probabilities -> track probabilities (n, n_labels) in
    label order, as the scan aggregates them (model.aggregate)."""
    out = np.zeros((len(chunk_probs), len(labels)))
    for i, p in enumerate(chunk_probs):
        out[i] = [c for _, c in sorted((labels.index(g), c)
                                       for g, c in aggregate(p, labels, aggregation).genres)]
    return out


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
    return run_cv_prepared(prepare(data, settings, say), settings, k, say)


def run_cv_prepared(prep: Prepared, settings: Settings, k: int, say: Progress = print) -> CVRun:
    """run_cv on data already prepared; the unsure rule with its per-genre
    limits (CrossValidated.calibrate), as train gives every model."""
    cv = cross_validate(prep, settings, k, say)
    trust = cv.calibrate(prep.data)
    return CVRun(prep, cv, trust, cv.scores(prep.data, trust, settings.seed))


CALIBRATION_FOLDS = 4  # musicnn's "unsure" is calibrated by this CV when train runs none


def calibration_cv(prep: Prepared, settings: Settings
                   ) -> tuple[CrossValidated | None, dict | None]:
    """A CALIBRATION_FOLDS-fold CV of ``prep`` (fewer if the data allows no
    more) and the unsure rule calibrated on it; (None, None) below 2 folds."""
    k = min(CALIBRATION_FOLDS, max_folds(prep.data))
    if k < 2:
        return None, None
    cv = cross_validate(prep, settings, k, lambda m: None)
    return cv, cv.calibrate(prep.data)


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
        cv, calibrated = calibration_cv(prep, settings)
    trust = None
    if settings.arch == "musicnn":
        fitted = fit_musicnn(prep, settings)
        network = musicnn_network(fitted.head, n, fitted.ref, fitted.tags)
        trust = fitted.trust(calibrated or {"min_confidence": 0.0, "max_distance": None,
                                            "min_variation": STEADY_DB})
        trust["calibrated_by"] = None if cv is None else f"{cv.folds}-fold CV"
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


