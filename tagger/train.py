"""Labelled folders -> split by track -> fit -> evaluate -> save a model folder.

``musicnn`` (the default) keeps the pretrained MSD musicnn backbone frozen and
fits a class-balanced multinomial logistic regression on its chunk
embeddings; the fitted scaler and weights become the Keras genre head, so the
saved model is one network from log-mel chunk to genre probabilities.
``cnn`` and ``crnn`` are trained from scratch on 4 s chunks with Keras.
Every split is by track: all chunks of a track sit on one side.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .constants import (MUSICNN_CHUNK_FRAMES, MUSICNN_CHUNK_HOP_FRAMES, MUSICNN_HOP,
                        MUSICNN_N_FFT, MUSICNN_N_MELS, MUSICNN_SAMPLE_RATE, MUSICNN_WEIGHTS,
                        SCRATCH_CHUNK_FRAMES, SCRATCH_CHUNK_HOP_FRAMES)
from .dataset import Dataset, folds, holdout, max_folds
from .errors import DataError, ModelError
from .evaluate import CURVE
from .features import Chunked, FrontEnd
from .device import precision_on
from .framewise import functions, pool_chunks
from .model import aggregate
from .modelcard import METADATA, WEIGHTS
from .tfruntime import import_tensorflow

ARCHS = ("musicnn", "cnn", "crnn")
MODEL_FILES = (WEIGHTS, METADATA)  # what save writes: all a replaced model loses
MODEL_TEMP = ".tagger-model-"  # in the hidden names of a model being written or swapped
HEAD_C = 0.03  # inverse L2 strength of the logistic regression head (chosen by 4-fold CV, 3 seeds)


def frontend_for(arch: str) -> FrontEnd:
    if arch not in ARCHS:
        raise ModelError(f"unknown architecture '{arch}' (choose from {', '.join(ARCHS)})")
    frames, hop = ((MUSICNN_CHUNK_FRAMES, MUSICNN_CHUNK_HOP_FRAMES) if arch == "musicnn"
                   else (SCRATCH_CHUNK_FRAMES, SCRATCH_CHUNK_HOP_FRAMES))
    return FrontEnd(MUSICNN_SAMPLE_RATE, MUSICNN_N_FFT, MUSICNN_HOP, MUSICNN_N_MELS, frames, hop)


@dataclass
class Settings:
    arch: str = "musicnn"
    epochs: int = 30  # cnn / crnn: at most, early stopping ends sooner
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
    from .pipeline import decode_chunks

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
    from .network import musicnn_backbone

    backbone = musicnn_backbone(MUSICNN_N_MELS, None)
    load_musicnn_weights(backbone)
    frames_fn, embed_fn = functions(tf, backbone, precision)
    return [embed_fn(pool_chunks(frames_fn, t)).numpy() for t in tracks]


# -- musicnn head --------------------------------------------------------------

def fit_head(emb: list[np.ndarray], y: np.ndarray, n_labels: int, c: float, seed: int,
             sources: list[str] | None = None) -> dict:
    """Class-balanced multinomial logistic regression on standardised track
    embeddings (the mean over a track's chunks). Returns the softmax layer's
    weights with the standardisation folded in: W (1706, n_labels) and b.

    Applied to each chunk and aggregated geometrically (model.aggregate),
    the head gives softmax(W . mean embedding + b): what it was fitted on.
    Balanced: every label weighs the same in total; within a label each
    source that has it the same; within those, every track the same."""
    from sklearn.linear_model import LogisticRegression

    X = np.stack([e.mean(axis=0) for e in emb])
    y = np.asarray(y)
    sources = list(sources) if sources is not None else [""] * len(y)
    cell = {}
    for s, label in zip(sources, y):
        cell[(s, label)] = cell.get((s, label), 0) + 1
    per_label = {label: sum(1 for (_, k) in cell if k == label) for label in set(y.tolist())}
    weights = np.array([1.0 / (cell[(s, label)] * per_label[label])
                        for s, label in zip(sources, y)])
    weights *= len(X) / weights.sum()  # mean 1, so that C means what it does unweighted
    mean, scale = X.mean(0), np.sqrt(np.maximum(X.var(0), 1e-12))
    clf = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    clf.fit((X - mean) / scale, y, sample_weight=weights)
    coef, intercept = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:  # sklearn keeps one row for two classes: sigmoid(z)
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0], intercept[0]]) / 2
    W = np.zeros((X.shape[1], n_labels))
    b = np.full(n_labels, -1e4)  # a label absent from training is never predicted
    W[:, clf.classes_] = coef.T / scale[:, None]
    b[clf.classes_] = intercept - (mean / scale) @ coef.T
    return {"W": W.astype(np.float32), "b": b.astype(np.float32)}


def head_probs(head: dict, emb: np.ndarray) -> np.ndarray:
    """numpy form of the head, for cross-validation: (n, 1706) -> (n, n_labels)."""
    z = emb @ head["W"] + head["b"]
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# -- "unsure": distance to the training tracks, and the calibrated threshold --

REFERENCE_DIMS = 64  # principal axes of the training tracks' embeddings
FAR_QUANTILE = 0.975  # held-out music farther than this share of CV tracks is unsure
WRITE_PRECISION = 0.90  # default writes: right at least this often on every source's CV


def fit_reference(emb: list[np.ndarray], dims: int = REFERENCE_DIMS) -> dict:
    """The training tracks as points in a whitened principal subspace of
    their mean embeddings: projection (1706, d) + offset (d,), points (n, d).
    model.Trust measures a track's distance to the nearest of them."""
    X = np.stack([e.mean(axis=0) for e in emb]).astype(np.float64)
    mean, scale = X.mean(0), X.std(0) + 1e-6
    Z = (X - mean) / scale
    _, s, vt = np.linalg.svd(Z, full_matrices=False)
    d = min(dims, len(s))
    # Axes along which the training tracks hardly vary are not whitened
    # into huge distances: at least 1/1000 of the first axis' spread.
    sd = np.maximum(s[:d] / np.sqrt(len(X)), 1e-3 * s[0] / np.sqrt(len(X)))
    projection = (vt[:d] / sd[:, None] / scale[None, :]).T
    offset = -(mean / scale) @ vt[:d].T / sd
    return {"projection": projection.astype(np.float32), "offset": offset.astype(np.float32),
            "points": (Z @ vt[:d].T / sd).astype(np.float32)}


def reference_distance(ref: dict, emb: np.ndarray) -> float:
    """numpy form of model.Trust.distance for one track's chunk embeddings."""
    q = emb.mean(axis=0) @ ref["projection"] + ref["offset"]
    return float(np.sqrt(((ref["points"] - q) ** 2).sum(axis=1).min()))


def calibrate(data: Dataset, probs: np.ndarray, distance: np.ndarray) -> dict:
    """The model's "unsure" rule from cross-validated predictions: the
    distance beyond which a track is unlike the training music (the
    FAR_QUANTILE of held-out tracks' distances), and the lowest confidence
    (CURVE) at which the CV writes of every source are right at least
    WRITE_PRECISION of the time."""
    known = ~np.isnan(distance)  # cnn / crnn have no distance
    max_distance = float(np.quantile(distance[known], FAR_QUANTILE)) if known.any() else None
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == data.y
    near = distance <= max_distance if max_distance is not None else np.ones(len(conf), bool)
    sources = np.array(data.sources)
    chosen = float(CURVE[-1])
    for t in CURVE:
        ok = True
        for s in data.source_names():
            sel = near & (conf >= t) & (sources == s)
            if sel.sum() < 5 or right[sel].mean() < WRITE_PRECISION:
                ok = False
        if ok:
            chosen = float(t)
            break
    return {"min_confidence": chosen,
            "max_distance": None if max_distance is None else round(max_distance, 4)}


def musicnn_network(head: dict, n_labels: int, ref: dict | None = None):
    """The full Keras model: frozen backbone + the fitted head (+ the
    reference outputs of model.Trust)."""
    from .network import genre_head, musicnn_backbone, musicnn_genre_model

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


# -- cnn / crnn ----------------------------------------------------------------

def fit_scratch(arch: str, chunks: list[np.ndarray], y: np.ndarray, n_labels: int,
                fe: FrontEnd, settings: Settings, say: Progress = print):
    """Train a cnn / crnn on chunks, with class weights and early stopping on
    a validation set of whole tracks."""
    import_tensorflow(settings.verbose)
    import keras

    from . import network

    keras.utils.set_random_seed(settings.seed)
    data = Dataset([str(i) for i in range(len(y))], y, [str(i) for i in range(n_labels)])
    try:
        tr, va = holdout(data, 0.15, settings.seed)
    except ValueError:  # too few tracks to hold some out per label
        tr, va = np.arange(len(y)), np.arange(0)

    def stack(index):
        if len(index) == 0:
            return None, None
        return (np.concatenate([chunks[i] for i in index]),
                np.concatenate([np.full(len(chunks[i]), y[i]) for i in index]))

    Xtr, Ytr = stack(tr)
    Xva, Yva = stack(va)
    counts = np.bincount(Ytr, minlength=n_labels).astype(float)
    class_weight = {i: (len(Ytr) / (n_labels * counts[i]) if counts[i] else 0.0)
                    for i in range(n_labels)}
    model = getattr(network, arch)(n_labels, fe.chunk_frames, fe.n_mels)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = []
    if Xva is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=4, restore_best_weights=True))
    model.fit(Xtr, Ytr, validation_data=None if Xva is None else (Xva, Yva),
              epochs=settings.epochs, batch_size=32, class_weight=class_weight,
              callbacks=callbacks, verbose=2 if settings.verbose else 0)
    return model


def predict_scratch(model, chunks: list[np.ndarray]) -> list[np.ndarray]:
    return [model.predict(c, batch_size=64, verbose=0) for c in chunks]


# -- the commands' work ----------------------------------------------------------

@dataclass
class Prepared:
    """A dataset decoded once: per-track chunks, and for musicnn the frozen
    backbone's embeddings, shared by cross-validation and the final fit."""

    data: Dataset
    chunks: list[Chunked]
    emb: list[np.ndarray] | None
    test_emb: list[np.ndarray] | None = None  # CV's held-out embeddings, if not emb
    precision: str = "float32"  # of test_emb (or emb)


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
    track of that fold (musicnn; NaN otherwise) and whether it is silent."""

    probs: np.ndarray
    distance: np.ndarray
    silent: np.ndarray
    folds: int

    def unsure(self, trust: dict) -> np.ndarray:
        """model.Trust's verdict on every track under ``trust`` (calibrate)."""
        from .model import Trust

        rule = Trust(trust["min_confidence"], trust.get("max_distance"))
        return np.array([rule.unsure(c, None if np.isnan(d) else d, s)
                         for c, d, s in zip(self.probs.max(axis=1), self.distance, self.silent)])


def cross_validate(prep: Prepared, settings: Settings, k: int, say: Progress = print
                   ) -> CrossValidated:
    """K-fold CV by artist where the folders name them, by track otherwise
    (dataset.folds)."""
    from .model import SILENT_LOGMEL

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
    silent = np.array([float(np.max(c.spec, initial=0.0)) < SILENT_LOGMEL for c in chunks])
    return CrossValidated(probs, distance, silent, k)


CALIBRATION_FOLDS = 4  # musicnn's "unsure" is calibrated by this CV when train runs none


def train(prep: Prepared, out: str | os.PathLike, settings: Settings, say: Progress = print,
          scores: dict | None = None, cv: CrossValidated | None = None) -> dict:
    """Fit on every track and save the model folder ``out``. The "unsure"
    rule (model.Trust) is calibrated on ``cv`` (a musicnn model runs a
    CALIBRATION_FOLDS-fold CV for it when none is given: the embeddings are
    there, it takes seconds)."""
    data, chunks = prep.data, prep.chunks
    fe = frontend_for(settings.arch)
    n = len(data.labels)
    say(f"training {settings.arch} on {len(data.y)} tracks, {sum(map(len, chunks))} chunks")
    scores = dict(scores or {})
    trust = None
    if settings.arch == "musicnn":
        if cv is None:
            k = min(CALIBRATION_FOLDS, max_folds(data))
            if k >= 2:
                cv = cross_validate(prep, settings, k, lambda m: None)
        head = fit_head(prep.emb, data.y, n, settings.head_c, settings.seed, data.sources)
        ref = fit_reference(prep.emb)
        network = musicnn_network(head, n, ref)
        trust = {"min_confidence": 0.0, "max_distance": None}
        if cv is not None:
            trust = calibrate(data, cv.probs, cv.distance)
        trust.update({"dims": int(ref["points"].shape[1]), "points": int(ref["points"].shape[0]),
                      "calibrated_by": None if cv is None else f"{cv.folds}-fold CV"})
        scores["min_confidence"] = trust["min_confidence"]
    else:
        network = fit_scratch(settings.arch, [c.take() for c in chunks], data.y, n, fe,
                              settings, say)
        if cv is not None:
            scores["min_confidence"] = calibrate(data, cv.probs, cv.distance)["min_confidence"]
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
        "data": {"tracks": len(data.y), "chunks": int(sum(map(len, chunks))),
                 "per_label": data.counts(),
                 "sources": {s: {"tracks": data.sources.count(s), "split_by": by}
                             for s, by in data.split_by().items()}},
        "scores": scores,
        "created": dt.date.today().isoformat(),
        "code_version": __version__,
    }
    if trust is not None:
        meta["unsure"] = trust
    save(network, meta, out)
    return meta


def check_out(out: str | os.PathLike) -> Path:
    """``out`` (symbolic links resolved) when a model may be written there: a
    new or empty folder, or a tagger model (it holds metadata.json), which is
    then replaced. ModelError naming the folder otherwise: a model is never
    written into a folder of the user's, and nothing of theirs is deleted."""
    out = Path(os.path.realpath(out))
    if not os.path.lexists(out):
        return out
    if not out.is_dir():
        raise ModelError("exists and is not a folder; give a new folder for the model", out)
    try:
        entries = os.listdir(out)
    except OSError as e:
        raise ModelError(f"cannot read the folder: {e.strerror}", out) from e
    if entries and METADATA not in entries:
        raise ModelError(f"not empty and not a tagger model (no {METADATA}); nothing was "
                         "written: give a new or empty folder for the model", out)
    return out


def save(network, meta: dict, out: str | os.PathLike) -> None:
    """Write model.weights.h5 and metadata.json as the folder ``out``: new,
    empty, or a tagger model that is replaced (``check_out``). The model is
    written into a new hidden sibling folder, synced, and swapped with
    ``out`` in one atomic rename, so a kill leaves the old model or the new
    one, whole. Files of the user's in an old model folder are moved into
    the new one; only the old model's own files are deleted."""
    out = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    new = out.with_name(f".{out.name}{MODEL_TEMP}{secrets.token_hex(4)}")
    new.mkdir()
    try:
        network.save_weights(new / WEIGHTS)
        (new / METADATA).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        for name in MODEL_FILES:
            _fsync(new / name)
        if os.path.lexists(out):
            _exchange(new, out)
            _retire(new, out)  # ``new`` now holds the previous folder
        else:
            new.rename(out)
        _fsync(out.parent)
    except OSError as e:
        raise ModelError(f"cannot write the model: {e.strerror or e}", out) from e
    finally:
        if new.is_dir() and set(os.listdir(new)) <= set(MODEL_FILES):
            for name in MODEL_FILES:
                (new / name).unlink(missing_ok=True)
            new.rmdir()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders: atomically with Linux's renameat2(RENAME_EXCHANGE);
    elsewhere (or on a file system without it) with two renames, so that a
    kill between them leaves the old model whole under ``a``'s hidden name."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        renameat2 = None
    if renameat2 is not None:
        at_fdcwd, rename_exchange = -100, 2
        if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
            return
        errno = ctypes.get_errno()
        if errno not in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
            raise OSError(errno, os.strerror(errno), os.fspath(b))
    aside = b.with_name(f".{b.name}{MODEL_TEMP}{secrets.token_hex(4)}")
    b.rename(aside)
    try:
        a.rename(b)
    except OSError:
        aside.rename(b)
        raise
    aside.rename(a)


def _retire(old: Path, out: Path) -> None:
    """Delete the replaced model's own files; anything else in its folder
    (the user's) moves into the new model folder, never deleted."""
    for name in os.listdir(old):
        if name in MODEL_FILES:
            (old / name).unlink()
        elif not os.path.lexists(out / name):
            (old / name).rename(out / name)
    old.rmdir()
