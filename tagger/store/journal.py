"""The undo journal: what every ``--write`` run changed, so it can be reverted.

Two tables in the result cache's SQLite file (this module owns only these):

``write_runs``
    one row per run: ``id``, ``started_at``, ``finished_at`` (NULL while
    running or when killed), ``options`` (JSON), ``undone_at``.
``write_journal``
    one row per file: the genres before (JSON list, or NULL when the file had
    no genre field), the file's genre fields exactly as stored
    (``previous_state``, JSON from ``tags.read_state``; NULL in journals
    written before it existed), the genres written and the path of the
    file's backup (``tags.write_genres`` makes it), committed *before* the
    file is touched; after a successful write the file's size, mtime and
    fingerprint, the ``delta`` that gives back its bytes from before the
    write (``tags.delta``, a zlib blob; NULL in older journals), and no
    backup. While an undo rewrites the file, ``backup`` holds its backup again.

The pipeline's order for each file::

    journal.recover()  # once per run, before anything else
    with tags.parsed_once():  # the file is read once: its genres and their state
        previous, state = tags.read_genres(path) or None, tags.read_state(path)
        entries = []  # record_before runs once the backup is made, before the edit
        tags.write_genres(path, new, id3v23=..., on_backup=lambda backup: entries.append(
            journal.record_before(run_id, path, previous, new, state, backup=backup)),
            on_edited=lambda delta: journal.record_after(entries[0], *file_state(path), delta))

``recover`` puts back every backup still recorded: a kill caught that file
mid-edit, so its backup's bytes go back into it and it is whole with its old
tags. ``undo.undo`` recovers first, then gives each file of a run back its
bytes from before the write (``tags.inplace.rebuild`` from the delta), or,
when it cannot (an older journal, a file whose bytes changed since), its
previous genre fields exactly as they were stored (``tags.restore_state``),
refusing any file changed since tagger wrote it (other software edited it,
or it was replaced); this module keeps its records. Times are ISO 8601 in UTC. Paths are stored as
``cache.path_key`` makes them (bytes for a name that is not UTF-8).
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime, timezone

from ..errors import CacheError, TaggerError
from ..tags import inplace
from ..tags.delta import Delta
from .cache import Cache, path_from_key, path_key
from .db import sqlite_errors, wrapped

RUNS = "write_runs"
ENTRIES = "write_journal"
# write_journal columns newer than its first version: name -> type.
_ADDED_COLUMNS = {"previous_state": str, "backup": str, "delta": bytes}

def interrupted(cache: Cache) -> bool:
    """Whether the journal records a backup for ``Journal.recover`` to put
    back (a kill caught a write or an undo mid-edit). One query, and it
    creates nothing: a scan asks before it reads any file."""
    with sqlite_errors(cache.path):
        return ENTRIES in cache.db.table_names() and cache.db.execute(
            f"select 1 from {ENTRIES} where backup is not null limit 1").fetchone() is not None


class Journal:
    """The write journal, in the tables it owns in the result cache's file.

    Every record is committed when the method returns, so call these outside
    an open transaction: a record that waits for a later commit would be lost
    if tagger is killed after writing the file.
    """

    def __init__(self, cache: Cache):
        self.cache = cache  # a restored file's new identity goes there
        self.db = db = cache.db
        self.path = cache.path  # what its errors name
        with sqlite_errors(self.path):
            # A record must outlive a power cut that the file edit after it
            # outlives: every commit on this connection is synced from now on
            # (the cache's WAL default, NORMAL, may lose the last commits).
            db.execute("PRAGMA synchronous = FULL")
            db[RUNS].create({
                "id": int, "started_at": str, "finished_at": str,
                "options": str, "undone_at": str,
            }, pk="id", not_null=["started_at", "options"], if_not_exists=True)
            db[ENTRIES].create({
                "id": int, "run_id": int, "path": str,
                "previous_genres": str, "new_genres": str, "recorded_at": str,
                "written_at": str, "size": int, "mtime_ns": int,
                "fingerprint": str, "undo_outcome": str, "undo_reason": str,
                "previous_state": str, "backup": str, "delta": bytes,
            }, pk="id", foreign_keys=[("run_id", RUNS, "id")],
                not_null=["run_id", "path", "new_genres", "recorded_at"],
                if_not_exists=True)
            for column, kind in _ADDED_COLUMNS.items():  # an older journal
                if column not in db[ENTRIES].columns_dict:
                    db[ENTRIES].add_column(column, kind)
            db[ENTRIES].create_index(["run_id"], if_not_exists=True)

    def start_run(self, options: dict) -> int:
        """Open a run with the write options (JSON-serialisable); return its id.

        ``options["id3v23"]`` is honoured by ``undo`` when it writes back.
        """
        return self._insert(RUNS, {"started_at": _now(),
                                   "options": json.dumps(options, sort_keys=True)})

    def record_before(self, run_id: int, path: str | os.PathLike,
                      previous_genres: list[str] | None,
                      new_genres: list[str],
                      previous_state: dict | None = None,
                      backup: str | os.PathLike | None = None) -> int:
        """Record an intended write, committed before the file is touched.

        ``previous_genres`` is None when the file had no genre field.
        ``previous_state`` is the file's ``tags.read_state``, as the caller
        read it with its genres (None: not recorded). ``backup`` is the file's backup
        (``tags.write_genres`` passes it to its ``on_backup``), which
        ``recover`` puts back if the write never reaches ``record_after``.
        Returns the entry id for ``record_after``.
        """
        self.run(run_id)
        return self._insert(ENTRIES, {
            "run_id": run_id, "path": path_key(path),
            "previous_genres": None if previous_genres is None
            else json.dumps(list(previous_genres)),
            "new_genres": json.dumps(list(new_genres)),
            "previous_state": None if previous_state is None
            else json.dumps(previous_state, sort_keys=True),
            "recorded_at": _now(),
            "backup": None if backup is None else path_key(backup),
        })

    def record_after(self, entry_id: int, size: int, mtime_ns: int,
                     fingerprint: str, delta: Delta | None = None) -> None:
        """Record the file's state once the write succeeded (see ``file_state``)
        and the ``delta`` that gives its old bytes back; its backup is no
        longer needed (``remove_stale_temps`` removes it if a kill left it)."""
        self._update(ENTRIES, entry_id, {
            "written_at": _now(), "size": size, "mtime_ns": mtime_ns,
            "fingerprint": fingerprint, "backup": None,
            "delta": None if delta is None else delta.to_blob()})

    def recover(self) -> list[str]:
        """Put back the backup of every file a kill caught mid-edit (a write or
        an undo); return those files.

        A recorded backup that still exists means the edit may not have
        finished: its bytes go back into the file (same inode), which is then
        whole with its tags from before that edit. A recorded backup that is
        gone was removed after the edit was on disk. Either way the entry then
        holds no backup. Raises TaggerError naming the file and its backup
        when one cannot be put back; it stays recorded for the next try.
        """
        rows = self._rows("backup is not null")
        restored = []
        for row in rows:
            path, backup = path_from_key(row["path"]), path_from_key(row["backup"])
            if os.path.lexists(backup):
                try:
                    inplace.restore_backup(backup, os.path.realpath(path))
                except OSError as e:
                    raise TaggerError(
                        f"a write was interrupted and its backup {backup} could not "
                        f"be put back: {e.strerror or e}; fix that and run again", path) from e
                restored.append(path)
            self._update(ENTRIES, row["id"], {"backup": None})
        return restored

    def finish_run(self, run_id: int) -> None:
        """Mark a run complete."""
        self.run(run_id)
        self._update(RUNS, run_id, {"finished_at": _now()})

    def runs(self) -> list[dict]:
        """All runs, oldest first: id, started_at, finished_at, options (a dict),
        files_written (files with a completed write), files_exact (those of
        them whose bytes undo can give back exactly: the journal holds their
        delta), files_recorded, undone_at."""
        sql = f"""
            select r.id, r.started_at, r.finished_at, r.options, r.undone_at,
                   count(e.written_at) as files_written,
                   count(case when e.written_at is not null then e.delta end) as files_exact,
                   count(e.id) as files_recorded
            from {RUNS} r left join {ENTRIES} e on e.run_id = r.id
            group by r.id order by r.id"""
        with sqlite_errors(self.path):
            rows = list(self.db.query(sql))
        for row in rows:
            row["options"] = json.loads(row["options"])
        return rows

    def latest_run(self) -> int | None:
        """The id of the most recent run, undone or not; None when there is none."""
        with sqlite_errors(self.path):
            return next(self.db.query(f"select max(id) as id from {RUNS}"))["id"]

    def entries(self, run_id: int) -> list[dict]:
        """The run's entries in the order recorded; genres decoded to lists
        (``previous_genres`` None when the field was absent), ``previous_state``
        to a dict and ``delta`` to a ``Delta`` (None when not recorded)."""
        self.run(run_id)
        rows = self._rows("run_id = ?", [run_id])
        for row in rows:
            row["path"] = path_from_key(row["path"])
            if row["backup"] is not None:
                row["backup"] = path_from_key(row["backup"])
            for key in ("previous_genres", "previous_state"):
                if row[key] is not None:
                    row[key] = json.loads(row[key])
            row["new_genres"] = json.loads(row["new_genres"])
            if row["delta"] is not None:
                try:
                    row["delta"] = Delta.from_blob(row["delta"])
                except ValueError:  # a damaged record: undo puts the genres back instead
                    row["delta"] = None
        return rows

    def record_undo(self, entry_id: int, outcome: str, reason: str) -> None:
        """What undo did with an entry's file (undo.py's outcomes); its backup is gone."""
        self._update(ENTRIES, entry_id, {"undo_outcome": outcome, "undo_reason": reason,
                                         "backup": None})

    def record_backup(self, entry_id: int, backup: str | os.PathLike) -> None:
        """The backup an undo made of an entry's file before rewriting it:
        ``recover`` puts it back if the undo is killed mid-edit."""
        self._update(ENTRIES, entry_id, {"backup": path_key(backup)})

    def finish_undo(self, run_id: int) -> None:
        self._update(RUNS, run_id, {"undone_at": _now()})

    def update_cache(self, path: str, genres: list[str]) -> None:
        """Tell the cache the file's identity after undo rewrote its tags
        (``genres``: those it holds now)."""
        with contextlib.suppress(OSError):  # gone: the next scan looks at it again
            self.cache.retagged(path, genres)

    @wrapped
    def run(self, run_id: int) -> dict:
        """The row of write run ``run_id``; TaggerError when there is none."""
        rows = list(self.db[RUNS].rows_where("id = ?", [run_id]))
        if not rows:
            raise TaggerError(f"no write run {run_id}")
        return rows[0]

    # --- the SQLite boundary ---

    @wrapped
    def _rows(self, where: str, values: list | None = None) -> list[dict]:
        return list(self.db[ENTRIES].rows_where(where, values, order_by="id"))

    @wrapped
    def _insert(self, table: str, row: dict) -> int:
        self._no_open_transaction()
        with self.db.atomic():
            return self.db[table].insert(row).last_pk

    @wrapped
    def _update(self, table: str, pk: int, updates: dict) -> None:
        self._no_open_transaction()
        with self.db.atomic():
            self.db[table].update(pk, updates)

    def _no_open_transaction(self) -> None:
        if self.db.conn.in_transaction:
            raise CacheError("write journal: a transaction is open, so the "
                             "record would not be committed before the write", self.path)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

