"""A review's decisions, kept in the result cache's SQLite file so that a
review stopped halfway goes on where it stopped.

One table (this module owns only it), ``review_decisions``: one row per file
a person decided on: ``path`` (as ``cache.path_key`` stores it), ``verdict``
(``choices.Verdict``'s value), ``genres`` (JSON list), ``decided_at`` (ISO
8601, UTC) and ``run_id``, the write run that wrote the decision (NULL until
it is written, and for decisions that write nothing). Skipped files have no
row: they are asked again. Every method commits before it returns.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils

from .cache import path_from_key, path_key
from .db import sqlite_errors

TABLE = "review_decisions"


@dataclass(frozen=True)
class StoredDecision:
    """One file's decision as the table holds it."""

    path: str
    verdict: str
    genres: tuple[str, ...]
    run_id: int | None


class DecisionStore:
    """The decisions table in a sqlite-utils ``Database`` (the cache's file)."""

    def __init__(self, db: sqlite_utils.Database, path: str | os.PathLike):
        self.db, self.path = db, path  # path: what its errors name
        with sqlite_errors(self.path):
            db[TABLE].create({"path": str, "verdict": str, "genres": str, "decided_at": str,
                              "run_id": int}, pk="path", not_null=["verdict", "genres"],
                             if_not_exists=True)

    def record(self, decisions: Mapping[str, tuple[str, Iterable[str]]]) -> None:
        """Keep path -> (verdict, genres), replacing earlier decisions on those
        files (not yet written: ``run_id`` NULL); one transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rows = [{"path": path_key(p), "verdict": v, "genres": json.dumps(list(g)),
                 "decided_at": now, "run_id": None} for p, (v, g) in decisions.items()]
        with sqlite_errors(self.path), self.db.atomic():
            self.db[TABLE].upsert_all(rows, pk="path")

    def all(self) -> dict[str, StoredDecision]:
        """Every decision, by path."""
        with sqlite_errors(self.path):
            rows = self.db.execute(f"select path, verdict, genres, run_id from {TABLE}").fetchall()
        return {path_from_key(p): StoredDecision(path_from_key(p), v, tuple(json.loads(g)), r)
                for p, v, g, r in rows}

    def mark_written(self, paths: Iterable[str], run_id: int) -> None:
        """These files' decisions were written by write run ``run_id``."""
        with sqlite_errors(self.path), self.db.atomic():
            for p in paths:
                self.db.execute(f"update {TABLE} set run_id = ? where path = ?",
                                [run_id, path_key(p)])

    def forget(self, paths: Iterable[str]) -> None:
        """Drop these files' decisions: they are asked again."""
        with sqlite_errors(self.path), self.db.atomic():
            for p in paths:
                self.db.execute(f"delete from {TABLE} where path = ?", [path_key(p)])

