"""Track-level scores: accuracy, balanced accuracy, per-label precision /
recall / F1, a confusion matrix, calibration and the writes a confidence
threshold gives. numpy only: scorecard.py renders them."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset

ECE_BINS = 10
TRUSTED = 0.8  # "confident" predictions: top confidence at least this


def scores(y: np.ndarray, probs: np.ndarray, labels: list[str]) -> dict:
    """Scores of per-track probabilities (n, n_labels) against labels y (n,)."""
    y = np.asarray(y)
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    n = len(labels)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    per_label = {}
    recalls = []
    for i, lab in enumerate(labels):
        tp = confusion[i, i]
        support = int(confusion[i].sum())
        predicted = int(confusion[:, i].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[lab] = {"precision": round(precision, 4), "recall": round(recall, 4),
                          "f1": round(f1, 4), "support": support}
        if support:
            recalls.append(recall)
    trusted = conf >= TRUSTED
    return {
        "tracks": int(len(y)),
        "accuracy": round(float((pred == y).mean()), 4),
        "balanced_accuracy": round(float(np.mean(recalls)), 4),
        "per_label": per_label,
        "confusion": confusion.tolist(),
        "labels": list(labels),
        "calibration": {
            "ece": round(expected_calibration_error(conf, pred == y), 4),
            "confident_threshold": TRUSTED,
            "confident_share": round(float(trusted.mean()), 4),
            "confident_accuracy": (round(float((pred[trusted] == y[trusted]).mean()), 4)
                                   if trusted.any() else None),
        },
    }


CURVE = np.round(np.arange(0.30, 0.96, 0.05), 2)  # confidence thresholds of the write curve


def writes(y: np.ndarray, probs: np.ndarray, written: np.ndarray) -> dict:
    """What a write of the top genre of the ``written`` tracks gives:
    coverage (share of tracks written) and precision (share of those right)."""
    right = probs.argmax(axis=1) == np.asarray(y)
    n = int(written.sum())
    return {"coverage": round(float(written.mean()), 4) if len(y) else 0.0,
            "precision": round(float(right[written].mean()), 4) if n else None,
            "written": n}


def source_scores(data: Dataset, probs: np.ndarray, unsure: np.ndarray | None = None,
                  min_confidence: float | None = None) -> dict:
    """scores() overall and per source, plus the default writes (tracks not
    unsure and at or above min_confidence) and the precision / coverage curve
    of writing above each CURVE threshold (not unsure by distance)."""
    conf = probs.max(axis=1)
    default = np.ones(len(conf), bool) if unsure is None else ~np.asarray(unsure, bool)
    if min_confidence is not None:
        default &= conf >= min_confidence
    sources = np.array(data.sources)
    out = scores(data.y, probs, data.labels)
    out["writes"] = writes(data.y, probs, default)
    out["sources"] = {}
    for s in data.source_names():
        m = sources == s
        seen = sorted(set(data.y[m].tolist()))
        part = scores(data.y[m], probs[m], data.labels)
        part["balanced_accuracy"] = round(float(np.mean(
            [part["per_label"][data.labels[v]]["recall"] for v in seen])), 4)
        part["labels_seen"] = [data.labels[v] for v in seen]
        part["writes"] = writes(data.y[m], probs[m], default[m])
        part["curve"] = [{"threshold": float(t), **writes(data.y[m], probs[m], conf[m] >= t)}
                         for t in CURVE]
        out["sources"][s] = part
    return out


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted
    by how many predictions fall in each."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(total)
