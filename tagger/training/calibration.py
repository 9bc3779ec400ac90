"""The "unsure" rule (model.Trust) fitted from cross-validated predictions:
the training tracks as reference points in a whitened embedding space and
their MSD tag profile per genre, the distances beyond which a track is
unlike the training music or unlike the genre it would get, and the default
write threshold."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .evaluate import CURVE
from ..model.inference import STEADY_DB

REFERENCE_DIMS = 64  # principal axes of the training tracks' embeddings
FAR_QUANTILE = 0.975  # held-out music farther than this share of CV tracks is unsure
WRITE_PRECISION = 0.90  # default writes: right at least this often on every source's CV
# Held-out music farther from the genre it would get (nearest track of that
# genre; its MSD tags from the genre's) than this share of the CV tracks
# given that genre is unsure (1.0: no such limit, the rule before issue 24).
# Chosen on the dev folders: leave-one-genre-out of the shipped model's own
# CV (all 11 genres) gave 12.3 % of a left-out genre written at 0.90 / 0.90;
# benchmarks/open_set.py --sweep confirmed it (15.1 %; models/MODEL.md).
GENRE_QUANTILE = 0.90
TAG_QUANTILE = 0.90
GENRE_MIN_TRACKS = 8  # a genre given to fewer CV tracks gets the quantile over all of them
# Per genre, the spread of a standardised tag is at least this: a genre of
# a few tracks, all alike in one tag, would otherwise call any difference far.
TAG_SPREAD_FLOOR = 0.3


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


def fit_tag_profile(emb: list[np.ndarray], y: np.ndarray, n_labels: int,
                    kernel: np.ndarray, bias: np.ndarray) -> dict:
    """Each genre's MSD tags: musicnn's tag layer (``kernel`` (200, 50),
    ``bias``) on the penultimate part of the training tracks' mean
    embeddings, standardised over the tracks. Returns the head's ``tags``
    layer (projection (1706, 50) + offset) and per genre the mean
    (``centre``) and spread (standard deviation, at least TAG_SPREAD_FLOOR)
    of the standardised tags, both (n_labels, 50); a genre without tracks
    gets 0 and 1."""
    X = np.stack([e.mean(axis=0) for e in emb]).astype(np.float64)
    logits = X[:, -kernel.shape[0]:] @ kernel + bias
    mean, scale = logits.mean(0), logits.std(0) + 1e-6
    Z = (logits - mean) / scale
    y = np.asarray(y)
    centre, spread = np.zeros((n_labels, Z.shape[1])), np.ones((n_labels, Z.shape[1]))
    for g in np.unique(y):
        centre[g], spread[g] = Z[y == g].mean(0), Z[y == g].std(0) + TAG_SPREAD_FLOOR
    projection = np.zeros((X.shape[1], Z.shape[1]))
    projection[-kernel.shape[0]:] = kernel / scale
    return {"projection": projection.astype(np.float32),
            "offset": ((bias - mean) / scale).astype(np.float32),
            "centre": centre.astype(np.float32), "spread": spread.astype(np.float32)}


def head_outputs(ref: dict, emb: np.ndarray, tags: dict | None = None) -> dict[str, np.ndarray]:
    """numpy form of the head's Trust outputs (network.genre_head) on one
    track's mean embedding, for model.Trust.evidence: projection (1, d),
    reference (1, n) and, with a tag profile, tags (1, 50)."""
    x = emb.mean(axis=0, keepdims=True)
    q = x @ ref["projection"] + ref["offset"]
    out = {"projection": q, "reference": q @ ref["points"].T - (ref["points"] ** 2).sum(1) / 2}
    if tags is not None:
        out["tags"] = x @ tags["projection"] + tags["offset"]
    return out


def per_genre_limit(values: np.ndarray, genre: np.ndarray, n_labels: int,
                    quantile: float) -> list[float]:
    """Per genre, the ``quantile`` of ``values`` over the CV tracks given
    that genre (over all tracks for a genre given to fewer than
    GENRE_MIN_TRACKS)."""
    overall = float(np.quantile(values, quantile))
    return [round(float(np.quantile(values[genre == g], quantile)), 4)
            if (genre == g).sum() >= GENRE_MIN_TRACKS else round(overall, 4)
            for g in range(n_labels)]


def calibrate(data: Dataset, probs: np.ndarray, distance: np.ndarray,
              genre_distance: np.ndarray | None = None,
              tag_distance: np.ndarray | None = None, genre_quantile: float = GENRE_QUANTILE,
              tag_quantile: float = TAG_QUANTILE, fit: np.ndarray | None = None) -> dict:
    """The model's "unsure" rule from cross-validated predictions: the
    distance beyond which a track is unlike the training music (the
    FAR_QUANTILE of held-out tracks' distances); per genre, the distance to
    its nearest training track and of the MSD tags from its profile beyond
    which a track given that genre is unlike it (the ``genre_quantile`` and
    ``tag_quantile`` of the held-out tracks given it; 1: no limit); the lowest confidence
    (CURVE) at which the CV writes of every source that are near by all of
    these are right at least WRITE_PRECISION of the time; and the
    steadiness limit, STEADY_DB.

    ``fit`` (bool, per track; default all): the tracks whose distances set
    the limits. The others (a library's files of genres not learnt, label
    -1: training.fromcache) only count as writes, always wrong ones."""
    fit = np.ones(len(distance), bool) if fit is None else np.asarray(fit, bool)
    known = ~np.isnan(distance) & fit  # cnn / crnn have no distance
    max_distance = float(np.quantile(distance[known], FAR_QUANTILE)) if known.any() else None
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == data.y
    near = distance <= max_distance if max_distance is not None else np.ones(len(conf), bool)
    genre, n = probs.argmax(axis=1), len(data.labels)
    limits = {}
    for key, values, quantile in (("max_genre_distance", genre_distance, genre_quantile),
                                  ("max_tag_distance", tag_distance, tag_quantile)):
        limits[key] = None
        if values is not None and not np.isnan(values).any() and quantile < 1:
            limits[key] = per_genre_limit(values[fit], genre[fit], n, quantile)
            near &= values <= np.asarray(limits[key])[genre]
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
            "max_distance": None if max_distance is None else round(max_distance, 4),
            "min_variation": STEADY_DB, **limits}
