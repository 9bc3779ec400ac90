"""Renderings of evaluate's scores: rich tables for the terminal and the
confusion matrix as a PNG."""

from __future__ import annotations

import os

import numpy as np

from ..errors import TaggerError
from .evaluate import CURVE


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
