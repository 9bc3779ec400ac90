"""Track-level scores: accuracy, balanced accuracy, per-label precision /
recall / F1, a confusion matrix (table and PNG) and calibration."""

from __future__ import annotations

import os

import numpy as np

from .dataset import Dataset
from .errors import TaggerError

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


def calibrated_threshold(y: np.ndarray, probs: np.ndarray, target: float = 0.95) -> float:
    """The lowest confidence above which predictions ``probs`` (n, n_labels)
    are right (against labels y (n,)) at least ``target`` of the time, over
    at least 10 tracks: the default --min-confidence a model card stores
    (``scores.min_confidence``). 0.95 when no step from 0.3 reaches it."""
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == np.asarray(y)
    for t in np.round(np.arange(0.3, 0.96, 0.05), 2):
        sel = conf >= t
        if sel.sum() >= 10 and right[sel].mean() >= target:
            return float(t)
    return 0.95


def confusion_png(result: dict, path: str | os.PathLike, title: str = "") -> None:
    """The confusion matrix as a picture (rows: truth, columns: prediction)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.array(result["confusion"])
    labels = result["labels"]
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(labels), 1 + 0.55 * len(labels)))
    ax.imshow(m / np.maximum(m.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center",
                        color="white" if m[i, j] > 0.6 * m[i].sum() else "black", fontsize=8)
    ax.set_title(title or f"accuracy {result['accuracy']:.3f}, "
                          f"balanced {result['balanced_accuracy']:.3f}")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except OSError as e:
        raise TaggerError(f"cannot write the picture: {e.strerror}", path) from e
    finally:
        plt.close(fig)


def confusion_table(result: dict):
    """The confusion matrix as a rich Table."""
    from rich.table import Table

    labels = result["labels"]
    t = Table(title="Confusion (rows: true, columns: predicted)")
    t.add_column("")
    for lab in labels:
        t.add_column(lab[:7], justify="right")
    for lab, row in zip(labels, result["confusion"]):
        t.add_row(lab, *[str(v) if v else "." for v in row])
    return t


def scores_table(result: dict):
    from rich.table import Table

    t = Table(title=f"{result['tracks']} tracks: accuracy {result['accuracy']:.3f}, "
                    f"balanced accuracy {result['balanced_accuracy']:.3f}")
    for col in ("label", "precision", "recall", "F1", "tracks"):
        t.add_column(col, justify="left" if col == "label" else "right")
    for lab, s in result["per_label"].items():
        t.add_row(lab, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}",
                  str(s["support"]))
    return t


def model_probs(model_dir: str | os.PathLike, data: Dataset, jobs: int | None, device: str,
                say=print, precision: str = "auto") -> tuple[Dataset, np.ndarray]:
    """Per-track probabilities of a saved model over a labelled dataset,
    in the model's label order; tracks that fail to decode are left out."""
    from .model import read_metadata
    from .pipeline import ScanOptions, classify
    from .features import FrontEnd

    meta = read_metadata(model_dir)
    missing = sorted(set(data.labels) - set(meta["labels"]))
    if missing:
        raise TaggerError(f"the model does not know the label(s) {', '.join(missing)}", model_dir)
    order = {p: i for i, p in enumerate(data.paths)}
    got: dict[int, np.ndarray] = {}
    options = ScanOptions(model_dir=model_dir, jobs=jobs, device=device, precision=precision)
    for item, pred in classify(data.paths, FrontEnd.from_dict(meta["frontend"]), options):
        if pred is None:
            say(f"skipped {item.path}: {item.error}")
            continue
        got[order[item.path]] = np.array([pred.distribution[lab] for lab in meta["labels"]])
    keep = sorted(got)
    sub = data.subset(keep)
    remap = np.array([meta["labels"].index(data.labels[v]) for v in sub.y])
    return Dataset(sub.paths, remap, list(meta["labels"])), np.array([got[i] for i in keep])
