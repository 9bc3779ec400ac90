"""A model folder: ``metadata.json`` (architecture, labels, the front-end it
was trained with, head settings, data summary, scores) beside
``model.weights.h5``; reading the metadata and hashing the files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..errors import ModelError

METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"


def read_metadata(directory: str | os.PathLike) -> dict:
    """The metadata of a model folder; ModelError when missing or unreadable."""
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
    return meta


def model_id(directory: str | os.PathLike) -> str:
    """A short hash of the model's files: the cache keys results by it."""
    h = hashlib.sha256()
    for name in (METADATA, WEIGHTS):
        try:
            h.update((Path(directory) / name).read_bytes())
        except OSError as e:
            raise ModelError(f"cannot read {name}: {e.strerror}", directory) from e
    return h.hexdigest()[:16]
