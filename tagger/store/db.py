"""The one way SQLite's errors leave the store: the cache and the journal
share one SQLite file, and any error on it (a corrupt, locked, read-only or
unreachable file, a full disk) becomes a one-line CacheError naming the file
and saying what to do.

``sqlite_errors(path)`` wraps a block, ``wrapped`` a method of an object with
a ``path`` (``Cache``, ``Journal``); ``sqlite_error`` makes the error itself.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3

from ..errors import CacheError

# SQLite's primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF) -> what
# the user can do about them.
_ADVICE = {
    **dict.fromkeys((11, 26), "the cache is corrupt ({}); move it away or use --db"),  # CORRUPT, NOTADB
    13: "the disk holding the cache is full ({}); free some space or use --db",  # FULL
    **dict.fromkeys((5, 6), "the cache is locked by another program ({}); close it or "
                            "use --db"),  # BUSY, LOCKED
    **dict.fromkeys((3, 8, 14), "the cache cannot be written ({}); check the permissions of "
                                "the file and its folder, or use --db"),  # PERM, READONLY, CANTOPEN
    10: "cannot read or write the cache ({}); check the disk, or use --db",  # IOERR
}


def sqlite_error(e: sqlite3.Error, path: str | os.PathLike) -> CacheError:
    """The CacheError for an SQLite error on the database file ``path``."""
    code = getattr(e, "sqlite_errorcode", None)
    advice = _ADVICE.get(code & 0xFF if code is not None else None,
                         "cache error ({}); move the cache away or use --db")
    return CacheError(advice.format(e), path)


@contextlib.contextmanager
def sqlite_errors(path: str | os.PathLike):
    """SQLite's errors in the block raised as ``sqlite_error``'s CacheError."""
    try:
        yield
    except sqlite3.Error as e:
        raise sqlite_error(e, path) from e


def wrapped(method):
    """A method of an object with a ``path`` (its database file), with
    SQLite's errors raised as CacheError naming that file."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with sqlite_errors(self.path):
            return method(self, *args, **kwargs)
    return wrapper
