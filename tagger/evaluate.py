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


def writes_table(result: dict, min_confidence: float | None):
    """Per source: the default writes and the precision / coverage curve."""
    from rich.table import Table

    t = Table(title="Writes of the top genre: coverage / precision per source "
                    f"(default: not unsure{'' if min_confidence is None else f', confidence >= {min_confidence:.2f}'})")
    t.add_column("threshold")
    names = list(result["sources"])
    for s in names:
        t.add_column(s, justify="right")
    row = ["default"]
    for s in names:
        w = result["sources"][s]["writes"]
        row.append(f"{w['coverage']:.0%} / {_pct(w['precision'])}")
    t.add_row(*row)
    for i, th in enumerate(CURVE):
        cells = [f">= {th:.2f}" + (" *" if min_confidence is not None
                                   and abs(th - min_confidence) < 1e-9 else "")]
        for s in names:
            c = result["sources"][s]["curve"][i]
            cells.append(f"{c['coverage']:.0%} / {_pct(c['precision'])}")
        t.add_row(*cells)
    return t


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


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
                say=print, precision: str = "auto"
                ) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Per-track probabilities of a saved model over a labelled dataset,
    in the model's label order, and its "unsure" verdicts; tracks that fail
    to decode are left out."""
    from .modelcard import read_metadata
    from .pipeline import ScanOptions, classify
    from .features import FrontEnd

    meta = read_metadata(model_dir)
    missing = sorted(set(data.labels) - set(meta["labels"]))
    if missing:
        raise TaggerError(f"the model does not know the label(s) {', '.join(missing)}", model_dir)
    order = {p: i for i, p in enumerate(data.paths)}
    got: dict[int, np.ndarray] = {}
    unsure: dict[int, bool] = {}
    options = ScanOptions(model_dir=model_dir, jobs=jobs, device=device, precision=precision)
    for item, pred in classify(data.paths, FrontEnd.from_dict(meta["frontend"]), options):
        if pred is None:
            say(f"skipped {item.path}: {item.error}")
            continue
        got[order[item.path]] = np.array([pred.distribution[lab] for lab in meta["labels"]])
        unsure[order[item.path]] = pred.unsure
    keep = sorted(got)
    sub = data.subset(keep)
    remap = np.array([meta["labels"].index(data.labels[v]) for v in sub.y])
    return (Dataset(sub.paths, remap, list(meta["labels"]), sub.sources, sub.groups),
            np.array([got[i] for i in keep]), np.array([unsure[i] for i in keep], dtype=bool))
