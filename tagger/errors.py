"""The few exceptions tagger raises. Each names the file it is about.

Third-party errors (decoders, mutagen, TensorFlow, SQLite) are wrapped once,
where they are called, into one of these with ``raise ... from e``; only the
CLI turns them into ``Error: ...`` and an exit code.
"""

from __future__ import annotations

import os


class TaggerError(Exception):
    """Base class. ``str(e)`` reads "path: what went wrong" when a path is known."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.path = None if path is None else os.fspath(path)
        self.reason = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class DecodeError(TaggerError):
    """A file could not be read or decoded as audio."""


class TagError(TaggerError):
    """A file's tags could not be read or written, or its format has no genre field."""


class ModelError(TaggerError):
    """A model folder is missing, incomplete or of an unknown architecture."""


class CacheError(TaggerError):
    """The SQLite cache could not be opened, is locked, or is corrupt."""


class DataError(TaggerError):
    """A training or evaluation folder is not in the <label>/<file> layout."""


class MissingExtra(TaggerError):
    """An optional library a command needs is not installed."""


class ClusterError(TaggerError):
    """Ray is missing, or the cluster cannot be reached or has no CPUs."""
