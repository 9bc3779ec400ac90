"""What a training run is told (``Settings``) and how it reports progress
(``Progress``): shared by train.py and scratch.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..constants import DEFAULT_EPOCHS
from .head import HEAD_C


@dataclass
class Settings:
    arch: str = "musicnn"
    epochs: int = DEFAULT_EPOCHS
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
