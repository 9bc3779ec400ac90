"""A model folder: ``metadata.json`` (architecture, labels, the front-end it
was trained with, head settings, data summary, scores) beside
``model.weights.h5``; its card read from the metadata (``read_card``), and
the hash of its files (``model_id``)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..audio.features import FrontEnd
from ..errors import ModelError
from .trust import Trust

METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"


@dataclass(frozen=True)
class ModelCard:
    """What a model's metadata.json says, typed: what the scan, the policy
    and ``tagger evaluate`` use. ``metadata`` is the whole file as stored
    (training writes it; models/MODEL.md describes it)."""

    arch: str  # "musicnn", "cnn" or "crnn"
    labels: tuple[str, ...]  # the network's outputs, in order
    frontend: FrontEnd  # the log-mel parameters it was trained with
    aggregation: str  # chunk probabilities -> track (inference.aggregate)
    trust: Trust  # when a verdict is "unsure"
    min_confidence: float | None  # the calibrated write threshold (scores), None: not scored
    metadata: dict
    # label -> how it is written (a model learnt from a library's tags writes
    # the library's spelling, training.fromtags); the config's come after.
    display_names: dict[str, str] = field(default_factory=dict)
    tracks: int | None = None  # it was trained on (data.tracks), None: not said
    per_label: dict[str, int] = field(default_factory=dict)  # training tracks per label


def read_card(directory: str | os.PathLike) -> ModelCard:
    """The card of a model folder; ModelError when its metadata is missing,
    unreadable or lacks the architecture, labels or front-end."""
    directory = Path(directory)
    try:
        with open(directory / METADATA, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError as e:
        raise ModelError(f"not a model folder (no {METADATA})", directory) from e
    except (OSError, ValueError) as e:
        raise ModelError(f"unreadable {METADATA}: {e}", directory) from e
    for key in ("arch", "labels", "frontend"):
        if key not in meta:
            raise ModelError(f"{METADATA} lacks '{key}'", directory)
    try:
        frontend = FrontEnd.from_dict(meta["frontend"])
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{METADATA} has an incomplete 'frontend' ({e})", directory) from e
    return ModelCard(meta["arch"], tuple(meta["labels"]), frontend,
                     meta.get("aggregation", "mean"), Trust.from_dict(meta.get("unsure")),
                     (meta.get("scores") or {}).get("min_confidence"), meta,
                     dict(meta.get("display_names") or {}),
                     (meta.get("data") or {}).get("tracks"),
                     dict((meta.get("data") or {}).get("per_label") or {}))


def model_id(directory: str | os.PathLike) -> str:
    """A short hash of the model's files: the cache keys results by it."""
    h = hashlib.sha256()
    for name in (METADATA, WEIGHTS):
        try:
            h.update((Path(directory) / name).read_bytes())
        except OSError as e:
            raise ModelError(f"cannot read {name}: {e.strerror}", directory) from e
    return h.hexdigest()[:16]
