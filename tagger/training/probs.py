"""A saved model's verdicts on a labelled dataset (``tagger evaluate``): the
scan's local classify run over the dataset's tracks, in the model's label
order."""

from __future__ import annotations

import os

import numpy as np

from ..errors import TaggerError
from ..model.card import read_card
from ..pipeline import ScanOptions, classify
from .dataset import Dataset


def model_probs(model_dir: str | os.PathLike, data: Dataset, jobs: int | None, device: str,
                say=print, precision: str = "auto"
                ) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Per-track probabilities of a saved model over a labelled dataset,
    in the model's label order, and its "unsure" verdicts; tracks that fail
    to decode are left out."""
    card = read_card(model_dir)
    labels = list(card.labels)
    missing = sorted(set(data.labels) - set(labels))
    if missing:
        raise TaggerError(f"the model does not know the label(s) {', '.join(missing)}", model_dir)
    order = {p: i for i, p in enumerate(data.paths)}
    got: dict[int, np.ndarray] = {}
    unsure: dict[int, bool] = {}
    options = ScanOptions(model_dir=model_dir, jobs=jobs, device=device, precision=precision)
    for item, pred in classify(data.paths, card.frontend, options):
        if pred is None:
            say(f"skipped {item.path}: {item.no_spec_reason}")
            continue
        got[order[item.path]] = np.array([pred.distribution[lab] for lab in labels])
        unsure[order[item.path]] = pred.unsure
    keep = sorted(got)
    sub = data.subset(keep)
    remap = np.array([labels.index(data.labels[v]) for v in sub.y])
    return (Dataset(sub.paths, remap, labels, sub.sources, sub.groups),
            np.array([got[i] for i in keep]), np.array([unsure[i] for i in keep], dtype=bool))
