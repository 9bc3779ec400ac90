"""tagger.store.decisions: a review's decisions in the cache's SQLite file."""

from __future__ import annotations

import os
import sqlite3

import pytest

from tagger.errors import CacheError
from tagger.store.cache import Cache
from tagger.store.decisions import TABLE, DecisionStore, StoredDecision



def test_decisions_are_kept_replaced_marked_and_forgotten(cache, tmp_path):
    odd = os.fsdecode(b"/music/caf\xe9.mp3")  # not UTF-8: stored as its bytes
    store = DecisionStore(cache.db, cache.path)
    store.record({"/music/a.mp3": ("typed", ["Krautrock", "Drone"]), odd: ("reject", [])})
    store.record({"/music/a.mp3": ("pick", ("metal",))})
    store.mark_written(["/music/a.mp3"], 7)
    # Another connection to the same file sees every change: each is committed.
    again = Cache(tmp_path / "cache.db")
    assert DecisionStore(again.db, again.path).all() == {
        "/music/a.mp3": StoredDecision("/music/a.mp3", "pick", ("metal",), 7),
        odd: StoredDecision(odd, "reject", (), None)}
    store.forget([odd])
    assert list(DecisionStore(again.db, again.path).all()) == ["/music/a.mp3"]
    again.close()


def test_an_sqlite_error_is_a_cache_error_naming_the_file(cache):
    store = DecisionStore(cache.db, cache.path)
    cache.db.execute(f"drop table {TABLE}")
    with pytest.raises(CacheError) as e:
        store.all()
    assert str(e.value).startswith(f"{cache.path}: cache error (no such table: {TABLE})")
    assert isinstance(e.value.__cause__, sqlite3.Error)
