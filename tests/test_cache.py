import shutil
import sqlite3
import threading
import time

import pytest

from tagger.cache import Cache, TrackResult, fingerprint
from tagger.errors import CacheError


def ok(path, genre="rock", conf=0.9):
    return TrackResult(path, "ok", [(genre, conf), ("pop", 1 - conf)], duration=3.0,
                       current_genres=["Old"], distribution={genre: conf, "pop": 1 - conf})


def test_store_and_read_back_in_a_real_sqlite_file(db):
    cache = Cache(db)
    cache.store(ok("/m/a.mp3"), 10, 20, "fp", "model1")
    cache.close()
    again = Cache(db)
    assert again.known("model1") == {"/m/a.mp3": (10, 20)}
    assert again.known("model2") == {}
    got = again.get("/m/a.mp3")
    assert got.genres == [("rock", 0.9), ("pop", pytest.approx(0.1))]
    assert got.current_genres == ["Old"] and got.from_cache
    # Committed: another connection sees it at once.
    assert sqlite3.connect(db).execute("select count(*) from results").fetchone() == (1,)


def test_errors_are_stored_but_not_known_as_done(db):
    cache = Cache(db)
    cache.store(TrackResult("/m/bad.mp3", "error", error="not audio"), 5, 6, None, "m")
    assert cache.known("m") == {}
    assert cache.get("/m/bad.mp3").error == "not audio"


def test_results_keep_the_order_asked_for(db):
    cache = Cache(db)
    for p in ["/b", "/a", "/c"]:
        cache.store(ok(p), 1, 1, p, "m")
    assert [r.path for r in cache.results(["/c", "/a", "/missing"])] == ["/c", "/a"]
    assert [r.path for r in cache.results()] == ["/a", "/b", "/c"]


def test_fingerprint_finds_a_moved_file(db, music):
    src = music / "Misc" / "aac tone.m4a"
    size = src.stat().st_size
    fp = fingerprint(str(src), size)
    cache = Cache(db)
    cache.store(ok(str(src)), size, 1, fp, "m")
    assert cache.find_moved(fp, size, "m") is None  # the original is still there
    dest = music / "moved.m4a"
    shutil.move(src, dest)
    assert fingerprint(str(dest), size) == fp
    assert cache.find_moved(fp, size, "m").genres[0][0] == "rock"
    assert cache.find_moved(fp, size, "other-model") is None


def test_fingerprint_changes_with_content(tmp_path):
    a = tmp_path / "a"
    a.write_bytes(b"x" * 300_000)
    before = fingerprint(str(a), 300_000)
    with open(a, "r+b") as f:
        f.seek(150_000)
        f.write(b"y")
    assert fingerprint(str(a), 300_000) != before


def test_update_identity_after_a_tag_write(db):
    cache = Cache(db)
    cache.store(ok("/m/a.mp3"), 10, 20, "fp", "m")
    cache.update_identity("/m/a.mp3", 11, 21, "fp2", ["Rock"])
    assert cache.known("m") == {"/m/a.mp3": (11, 21)}
    assert cache.get("/m/a.mp3").current_genres == ["Rock"]


def test_a_second_run_waits_for_the_lock(db):
    first, second = Cache(db), Cache(db)
    events = []

    def other():
        with second.lock(lambda: events.append("waiting")):
            events.append("second")

    with first.lock():
        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.3)
        events.append("first done")
    t.join(5)
    assert events == ["waiting", "first done", "second"]


def test_corrupt_database_is_a_cache_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CacheError, match="cannot open the cache"):
        Cache(bad)



def test_a_cache_from_before_the_album_column_gets_it(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("create table results (path text primary key, size integer, mtime_ns integer, "
                 "fingerprint text, model_id text, status text, error text, genres text, "
                 "distribution text, duration float, current_genres text, analysed_at float)")
    conn.execute("insert into results values ('/m/a.flac', 1, 2, 'f', 'm', 'ok', null, "
                 "'[[\"jazz\", 0.9]]', '{}', 4.0, '[]', 0)")
    conn.commit()
    conn.close()
    cache = Cache(db)
    assert cache.get("/m/a.flac").album is None
    cache.store(TrackResult("/m/b.flac", "ok", [("rock", 0.8)], album="Quiet"), 1, 2, "g", "m")
    assert [r.album for r in cache.results()] == [None, "Quiet"]
