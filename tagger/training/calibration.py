"""The "unsure" rule (model.Trust) fitted from cross-validated predictions:
the training tracks as reference points in a whitened embedding space, the
distance beyond which a track is unlike them, and the default write
threshold."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .evaluate import CURVE
from ..model.inference import STEADY_DB

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
    WRITE_PRECISION of the time; and the steadiness limit, STEADY_DB."""
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
            "max_distance": None if max_distance is None else round(max_distance, 4),
            "min_variation": STEADY_DB}
