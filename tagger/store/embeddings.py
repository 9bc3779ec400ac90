"""Track embeddings in the cache: what a scan keeps so that training needs
no decoding.

A musicnn scan stores each track's mean chunk embedding (1706 values,
float16: 3.4 kB) in its ``results`` row, beside the genres
(``Cache.store(embedding=...)``, read back by ``Cache.embeddings``). The
row's identity (size, modification time) says whether it still describes
the file; a tag write by tagger updates that identity
(Cache.update_identity), since the audio, and so the embedding, is
unchanged. Every musicnn model runs the same frozen backbone, so an
embedding made with one model serves a head trained for another.
"""

from __future__ import annotations

import numpy as np

from ..constants import EMBEDDING_DTYPE


def encode(embedding: np.ndarray | None) -> bytes | None:
    """A (d,) embedding as the bytes the cache stores (None stays None)."""
    return None if embedding is None else np.asarray(embedding, EMBEDDING_DTYPE).tobytes()


def decode(blob: bytes) -> np.ndarray:
    """The inverse of ``encode``, as float32 (d,)."""
    return np.frombuffer(blob, EMBEDDING_DTYPE).astype(np.float32)
