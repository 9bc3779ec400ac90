"""The result cache: SQLite through sqlite-utils.

One row per file path in ``results``: the file's identity (size, mtime and a
cheap content fingerprint), the model that analysed it, and what it found.
A row is reused when the path, size and mtime match and the model is the
same; a file that was moved or renamed is recognised by its fingerprint and
size and not analysed again. Rows are committed one by one as results
arrive, so a killed scan loses only the tracks in flight.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from .constants import APP_NAME, FINGERPRINT_BLOCK
from .errors import CacheError

BUSY_TIMEOUT = 30_000  # ms a writer waits for another process's transaction
# results columns newer than the table's first version: name -> type.
ADDED_COLUMNS = {"album": str}


def default_db_path() -> Path:
    """The cache in the user's cache directory, e.g. ~/.cache/tagger/tagger.db."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME)) / f"{APP_NAME}.db"


def fingerprint(path: str, size: int) -> str:
    """Hash of the size and three 64 KiB blocks (start, middle, end): cheap,
    and enough to recognise a file that moved."""
    h = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as f:
        for offset in sorted({0, max(0, size // 2 - FINGERPRINT_BLOCK // 2),
                              max(0, size - FINGERPRINT_BLOCK)}):
            f.seek(offset)
            h.update(f.read(FINGERPRINT_BLOCK))
    return h.hexdigest()


@dataclass
class TrackResult:
    """What a scan knows of one file."""

    path: str
    status: str  # "ok" or "error"
    genres: list[tuple[str, float]] = field(default_factory=list)  # best first
    error: str | None = None
    duration: float | None = None  # s
    current_genres: list[str] = field(default_factory=list)  # the file's genre tag
    from_cache: bool = False
    distribution: dict[str, float] = field(default_factory=dict)
    album: str | None = None  # the file's album tag (album consensus groups by it)
    unsure: bool = False  # the model cannot tell its best genres apart: never written

    @property
    def top(self) -> tuple[str, float] | None:
        return self.genres[0] if self.genres else None


class Cache:
    """The SQLite file of results (and, in other tables, the write journal)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT / 1000, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._ensure_schema()
        except sqlite3.DatabaseError as e:
            raise CacheError(f"cannot open the cache: {e}", self.path) from e
        except OSError as e:
            raise CacheError(f"cannot create the cache: {e.strerror}", self.path) from e

    def _ensure_schema(self) -> None:
        if "results" not in self.db.table_names():
            self.db["results"].create({
                "path": str, "size": int, "mtime_ns": int, "fingerprint": str,
                "model_id": str, "status": str, "error": str, "genres": str,
                "distribution": str, "duration": float, "current_genres": str,
                "analysed_at": float,
            }, pk="path", if_not_exists=True)
            self.db["results"].create_index(["fingerprint", "size"], if_not_exists=True)
        # Columns added since the first release: caches made before get them here.
        columns = self.db["results"].columns_dict
        for name, kind in ADDED_COLUMNS.items():
            if name not in columns:
                self.db["results"].add_column(name, kind)

    def close(self) -> None:
        self.db.conn.close()

    @contextlib.contextmanager
    def lock(self, on_wait=None):
        """Hold the cache's run lock (a file lock beside the database): a second
        tagger run on the same cache calls ``on_wait()`` and waits its turn."""
        try:
            import fcntl
        except ImportError:  # Windows: SQLite's own locking has to do
            yield
            return
        try:
            handle = open(self.path.with_name(self.path.name + ".lock"), "a+")
        except OSError as e:
            raise CacheError(f"cannot create the lock file: {e.strerror}", self.path) from e
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- reading -------------------------------------------------------------

    def known(self, model_id: str) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every ok row for this model: one query,
        so a warm re-scan checks each file with a dict look-up."""
        rows = self.db.execute(
            "select path, size, mtime_ns from results where model_id = ? and status = 'ok'",
            [model_id]).fetchall()
        return {p: (s, m) for p, s, m in rows}

    def get(self, path: str) -> TrackResult | None:
        row = next(self.db["results"].rows_where("path = ?", [path]), None)
        return None if row is None else _to_result(row, from_cache=True)

    def identity(self, path: str) -> tuple[int, int] | None:
        """(size, mtime_ns) the file had when its cached result was made, or None."""
        row = self.db.execute("select size, mtime_ns from results where path = ?",
                              [path]).fetchone()
        return None if row is None else (row[0], row[1])

    def find_moved(self, fp: str, size: int, model_id: str) -> TrackResult | None:
        """An ok result for the same content under another path that no
        longer exists: the file was moved or renamed."""
        for row in self.db["results"].rows_where(
                "fingerprint = ? and size = ? and model_id = ? and status = 'ok'",
                [fp, size, model_id]):
            if not os.path.exists(row["path"]):
                return _to_result(row, from_cache=True)
        return None

    def results(self, paths: list[str] | None = None) -> list[TrackResult]:
        """Cached results, for the given paths (in that order) or all (by path)."""
        if paths is None:
            return [_to_result(r, True) for r in self.db["results"].rows_where(order_by="path")]
        found = {r["path"]: r for r in self._rows_for(paths)}
        return [_to_result(found[p], True) for p in paths if p in found]

    def _rows_for(self, paths: list[str]):
        for i in range(0, len(paths), 500):
            part = paths[i: i + 500]
            yield from self.db["results"].rows_where(
                f"path in ({','.join('?' * len(part))})", part)

    # -- writing -------------------------------------------------------------

    def store(self, result: TrackResult, size: int, mtime_ns: int, fp: str | None,
              model_id: str | None) -> None:
        """Commit one result now (autocommit): a kill later cannot lose it."""
        self.db["results"].upsert({
            "path": result.path, "size": size, "mtime_ns": mtime_ns, "fingerprint": fp,
            "model_id": model_id, "status": result.status, "error": result.error,
            "genres": json.dumps(result.genres), "distribution": json.dumps(result.distribution),
            "duration": result.duration, "current_genres": json.dumps(result.current_genres),
            "analysed_at": time.time(), "album": result.album,
        }, pk="path")

    def update_identity(self, path: str, size: int, mtime_ns: int, fp: str,
                        current_genres: list[str]) -> None:
        """After tagger itself rewrote a file's tags: same audio, new identity.
        A file the cache does not hold has nothing to update."""
        with contextlib.suppress(sqlite_utils.db.NotFoundError):
            self.db["results"].update(path, {"size": size, "mtime_ns": mtime_ns,
                                             "fingerprint": fp,
                                             "current_genres": json.dumps(current_genres)})

    def forget(self, path: str) -> None:
        with contextlib.suppress(sqlite_utils.db.NotFoundError):
            self.db["results"].delete(path)


def _to_result(row: dict, from_cache: bool) -> TrackResult:
    return TrackResult(
        path=row["path"], status=row["status"],
        genres=[(g, c) for g, c in json.loads(row["genres"] or "[]")],
        error=row["error"], duration=row["duration"],
        current_genres=json.loads(row["current_genres"] or "[]"), from_cache=from_cache,
        distribution=json.loads(row["distribution"] or "{}"), album=row.get("album"))
