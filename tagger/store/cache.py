"""The result cache: SQLite through sqlite-utils.

Every SQLite error (a corrupt, locked, read-only or unreachable file, a full
disk) leaves this module as a CacheError that says what to do (``db``).

One row per file path in ``results``: the file's identity (size, mtime and a
cheap content fingerprint), the model that analysed it, and what it found.
A row is reused when the path, size and mtime match and the model is the
same; a file that was moved or renamed, or a copy of one already analysed,
is recognised by its fingerprint and size and not analysed again. Rows are committed one by one as results
arrive, so a killed scan loses only the tracks in flight.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

import sqlite_utils

from ..constants import APP_NAME, FINGERPRINT_BLOCK
from ..errors import CacheError
from ..results import TrackResult  # noqa: F401  (also imported from here)
from .db import sqlite_errors, wrapped
from .embeddings import decode, encode

BUSY_TIMEOUT = 30_000  # ms a writer waits for another process's transaction
# results columns newer than the table's first version: name -> type.
ADDED_COLUMNS = {"album": str, "unsure": int, "unsure_reason": str, "embedding": bytes}

def default_db_path() -> Path:
    """The cache in the user's cache directory, e.g. ~/.cache/tagger/tagger.db."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME)) / f"{APP_NAME}.db"


def file_state(path: str | os.PathLike) -> tuple[int, int, str]:
    """(size in bytes, mtime in ns, fingerprint) of a file: its identity.

    The fingerprint (start, middle and end blocks) changes with another
    tagger's edit too: tag blocks sit at the start or end of a file. Raises
    OSError.
    """
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, fingerprint(os.fspath(path), st.st_size)


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


def path_key(path: str | os.PathLike) -> str | bytes:
    """A path as the database stores it: text, or, for a name that is not
    valid UTF-8 (Python holds it with surrogate escapes, e.g. ``bad\\udcff``),
    the file system's bytes, so that every name round-trips exactly."""
    path = os.fspath(path)
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def path_from_key(value: str | bytes) -> str:
    """The inverse of ``path_key``."""
    return os.fsdecode(value) if isinstance(value, bytes) else value


def printable(text: str) -> str:
    """Text safe to encode as UTF-8: undecodable bytes of a file name shown as
    ``\\xff`` escapes (a name that is valid UTF-8 is returned as it is)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class Cache:
    """The SQLite file of results (and, in other tables, the write journal)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with sqlite_errors(self.path):
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT / 1000,
                                       isolation_level=None)
                self.db = sqlite_utils.Database(conn)
                self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT}")
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._ensure_schema()
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

    @wrapped
    def known(self, model_id: str) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every ok row for this model: one query,
        so a warm re-scan checks each file with a dict look-up."""
        rows = self.db.execute(
            "select path, size, mtime_ns from results where model_id = ? and status = 'ok'",
            [model_id]).fetchall()
        return {path_from_key(p): (s, m) for p, s, m in rows}

    @wrapped
    def identity(self, path: str) -> tuple[int, int] | None:
        """(size, mtime_ns) the file had when its cached result was made, or None."""
        row = self.db.execute("select size, mtime_ns from results where path = ?",
                              [path_key(path)]).fetchone()
        return None if row is None else (row[0], row[1])

    @wrapped
    def find_moved(self, fp: str, size: int, model_id: str) -> TrackResult | None:
        """An ok result for the same content under another path that no
        longer exists: the file was moved or renamed."""
        for row in self.db["results"].rows_where(
                "fingerprint = ? and size = ? and model_id = ? and status = 'ok'",
                [fp, size, model_id]):
            if not os.path.exists(path_from_key(row["path"])):
                return _to_result(row, from_cache=True)
        return None

    @wrapped
    def find_identical(self, fp: str, size: int, model_id: str, path: str) -> TrackResult | None:
        """An ok result of this model for the same content under another
        path than ``path`` (a copy, a hard link, the same track on another
        album)."""
        row = next(self.db["results"].rows_where(
            "fingerprint = ? and size = ? and model_id = ? and status = 'ok' and path != ?",
            [fp, size, model_id, path_key(path)], limit=1), None)
        return None if row is None else _to_result(row, from_cache=True)

    @wrapped
    def results(self, paths: list[str] | None = None) -> list[TrackResult]:
        """Cached results, for the given paths (in that order) or all (by path)."""
        if paths is None:
            return [_to_result(r, True) for r in self.db["results"].rows_where(order_by="path")]
        found = {path_from_key(r["path"]): r for r in self._rows_for(paths)}
        return [_to_result(found[p], True) for p in paths if p in found]

    def _rows_for(self, paths: list[str]):
        for i in range(0, len(paths), 500):
            part = [path_key(p) for p in paths[i: i + 500]]
            yield from self.db["results"].rows_where(
                f"path in ({','.join('?' * len(part))})", part)

    @wrapped
    def embeddings(self, files: dict[str, tuple[int, int] | None]) -> dict:
        """path -> its cached mean chunk embedding (store.embeddings, float32
        (d,)), for the ``files`` (path -> (size, mtime_ns) now, or None: any)
        whose analysed row holds one and still has that identity."""
        found = {}
        for i in range(0, len(files), 500):
            part = [path_key(p) for p in list(files)[i: i + 500]]
            for key, size, mtime_ns, blob in self.db.execute(
                    "select path, size, mtime_ns, embedding from results where status = 'ok' "
                    f"and embedding is not null and path in ({','.join('?' * len(part))})", part):
                path = path_from_key(key)
                if files[path] in (None, (size, mtime_ns)):
                    found[path] = decode(blob)
        return found

    # -- writing -------------------------------------------------------------

    @wrapped
    def store(self, result: TrackResult, size: int, mtime_ns: int, fp: str | None,
              model_id: str | None, embedding=None) -> None:
        """Commit one result now (autocommit): a kill later cannot lose it.
        ``embedding``: the track's mean chunk embedding, for training
        (store.embeddings); None clears an older one."""
        self.db["results"].upsert({
            "path": path_key(result.path), "size": size, "mtime_ns": mtime_ns, "fingerprint": fp,
            "model_id": model_id, "status": result.status,
            "error": None if result.error is None else printable(result.error),
            "genres": json.dumps(result.genres), "distribution": json.dumps(result.distribution),
            "duration": result.duration, "current_genres": json.dumps(result.current_genres),
            "analysed_at": time.time(), "album": result.album, "unsure": int(result.unsure),
            "unsure_reason": result.unsure_reason, "embedding": encode(embedding),
        }, pk="path")

    @wrapped
    def update_identity(self, path: str, size: int, mtime_ns: int, fp: str,
                        current_genres: list[str]) -> None:
        """Give a file whose tags were rewritten, never its audio, its new
        identity: the next scan need not decode it.

        Every row that is the same file is updated: the path's own, and the
        rows of other names of it (a symlink, a hard link) that held its old
        identity. A file the cache does not hold has nothing to update.
        """
        key = path_key(path)
        row = next(self.db["results"].rows_where("path = ?", [key]), None)
        keys = [key]
        if row is not None and row["fingerprint"] is not None:
            for other in self.db["results"].rows_where(
                    "fingerprint = ? and size = ? and path != ?",
                    [row["fingerprint"], row["size"], key]):
                with contextlib.suppress(OSError):
                    if os.path.samefile(path_from_key(other["path"]), path):
                        keys.append(other["path"])
        for k in keys:
            with contextlib.suppress(sqlite_utils.db.NotFoundError):
                self.db["results"].update(k, {
                    "size": size, "mtime_ns": mtime_ns, "fingerprint": fp,
                    "current_genres": json.dumps(current_genres)})

    def retagged(self, path: str, genres: list[str],
                 state: tuple[int, int, str] | None = None) -> None:
        """``update_identity`` after a tag write (tagger's, its undo's, or
        another program's): ``genres`` are the file's now, ``state`` its
        ``file_state`` if the caller has it, else read here (OSError)."""
        self.update_identity(path, *(state or file_state(path)), list(genres))

    @wrapped
    def forget(self, path: str) -> None:
        with contextlib.suppress(sqlite_utils.db.NotFoundError):
            self.db["results"].delete(path_key(path))


def _to_result(row: dict, from_cache: bool) -> TrackResult:
    return TrackResult(
        path=path_from_key(row["path"]), status=row["status"],
        genres=[(g, c) for g, c in json.loads(row["genres"] or "[]")],
        error=row["error"], duration=row["duration"],
        current_genres=json.loads(row["current_genres"] or "[]"), from_cache=from_cache,
        distribution=json.loads(row["distribution"] or "{}"), album=row.get("album"),
        unsure=bool(row.get("unsure")), unsure_reason=row.get("unsure_reason"))
