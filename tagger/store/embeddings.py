"""Track embeddings in the cache: what a scan keeps so that training needs
no decoding.

A musicnn scan stores each track's mean chunk embedding (1706 values,
float16: 3.4 kB) in its ``results`` row, beside the genres. The row's
identity (size, modification time) says whether it still describes the
file; a tag write by tagger updates that identity (cache.update_identity),
since the audio, and so the embedding, is unchanged. Every musicnn model
runs the same frozen backbone, so an embedding made with one model serves a
head trained for another.
"""

from __future__ import annotations

import sqlite3

import numpy as np

from ..constants import EMBEDDING_DTYPE
from .cache import Cache, cache_error, path_from_key, path_key


def encode(embedding: np.ndarray | None) -> bytes | None:
    """A (d,) embedding as the bytes the cache stores (None stays None)."""
    return None if embedding is None else np.asarray(embedding, EMBEDDING_DTYPE).tobytes()


def decode(blob: bytes) -> np.ndarray:
    """The inverse of ``encode``, as float32 (d,)."""
    return np.frombuffer(blob, EMBEDDING_DTYPE).astype(np.float32)


def cached_embeddings(cache: Cache, files: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """path -> its cached mean chunk embedding, for the ``files`` (path ->
    (size, mtime_ns) now) whose row still has that identity and holds one."""
    found: dict[str, np.ndarray] = {}
    paths = list(files)
    try:
        for i in range(0, len(paths), 500):
            part = [path_key(p) for p in paths[i: i + 500]]
            rows = cache.db.execute(
                "select path, size, mtime_ns, embedding from results where status = 'ok' "
                f"and embedding is not null and path in ({','.join('?' * len(part))})", part)
            for key, size, mtime_ns, blob in rows:
                path = path_from_key(key)
                if files.get(path) == (size, mtime_ns):
                    found[path] = decode(blob)
    except sqlite3.Error as e:
        raise cache_error(e, cache.path) from e
    return found

