"""Decoded tracks -> predictions, in network calls of at least BATCH_CHUNKS
chunks: what a local scan (pipeline.classify) and a cluster's network actors
(cluster.node) both run."""

from __future__ import annotations

from typing import Iterable

from ..audio.analysis import Decoded
from ..audio.chunks import chunk_decoded
from ..audio.features import Chunked, FrontEnd
from ..constants import BATCH_CHUNKS


def batches(items: Iterable[tuple[Decoded, Chunked | None]], min_chunks: int = BATCH_CHUNKS):
    """Group decoded tracks so that one network call sees at least
    ``min_chunks`` chunks (several short tracks, or one long one). Failed
    tracks pass through alone, as [(Decoded, None)]."""
    group, size = [], 0
    for item, c in items:
        if c is None:
            yield [(item, None)]
            continue
        group.append((item, c))
        size += len(c)
        if size >= min_chunks:
            yield group
            group, size = [], 0
    if group:
        yield group


def predict(model, decoded: Iterable[Decoded], fe: FrontEnd, fast: bool):
    """(Decoded, Prediction or None) for each decoded track, in order
    (``model``: an inference.GenreModel)."""
    yield from predict_chunked(model, chunk_decoded(decoded, fe, fast))


def predict_chunked(model, items: Iterable[tuple[Decoded, Chunked | None]]):
    """(Decoded, Prediction or None) for each (Decoded, Chunked or None)."""
    for group in batches(items):
        if group[0][1] is None:
            yield group[0][0], None
            continue
        for (item, _), pred in zip(group, model.predict_tracks([c for _, c in group])):
            yield item, pred
