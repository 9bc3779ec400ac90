import os
import shutil
import sqlite3
import threading
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from tagger.store.cache import Cache, TrackResult, fingerprint
from tagger.cli import app
from unprivileged import run_tagger
from tagger.errors import CacheError


def cached(cache: Cache, path: str) -> TrackResult | None:
    """The cache's result for one path, or None."""
    return next(iter(cache.results([path])), None)


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
    got = cached(again, "/m/a.mp3")
    assert got.genres == [("rock", 0.9), ("pop", pytest.approx(0.1))]
    assert got.current_genres == ["Old"] and got.from_cache
    # Committed: another connection sees it at once.
    assert sqlite3.connect(db).execute("select count(*) from results").fetchone() == (1,)


def test_errors_are_stored_but_not_known_as_done(db):
    cache = Cache(db)
    cache.store(TrackResult("/m/bad.mp3", "error", error="not audio"), 5, 6, None, "m")
    assert cache.known("m") == {}
    assert cached(cache, "/m/bad.mp3").error == "not audio"


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
    assert cached(cache, "/m/a.mp3").current_genres == ["Rock"]


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
    with pytest.raises(CacheError) as e:
        Cache(bad)
    assert str(e.value) == (f"{bad}: the cache is corrupt (file is not a database); "
                            "move it away or use --db")


def test_a_cache_corrupt_past_its_first_page_fails_as_a_cache_error_when_read(db):
    cache = Cache(db)
    for i in range(300):
        cache.store(ok(f"/m/{i:03d}.mp3"), 1, 1, "fp", "m")
    cache.close()
    with open(db, "r+b") as f:  # the results' pages, not the schema on page 1
        f.seek(8192)
        f.write(np.random.default_rng(0).bytes(8 * 4096))
    cache = Cache(db)
    for read in (lambda: cache.known("m"), lambda: cache.results(),
                 lambda: cache.results(["/m/001.mp3"]), lambda: cache.find_moved("fp", 1, "m")):
        with pytest.raises(CacheError) as e:
            read()
        assert str(e.value) == (f"{db}: the cache is corrupt (database disk image is "
                                "malformed); move it away or use --db")


def test_a_cache_locked_by_another_program_is_a_cache_error(db, monkeypatch):
    from tagger.store import cache as C

    monkeypatch.setattr(C, "BUSY_TIMEOUT", 100)  # ms, not 30 s
    cache = Cache(db)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("begin exclusive")
    try:
        with pytest.raises(CacheError) as e:
            cache.store(ok("/m/a.mp3"), 1, 1, "fp", "m")
    finally:
        other.execute("rollback")
    assert str(e.value) == (f"{db}: the cache is locked by another program (database is "
                            "locked); close it or use --db")


@pytest.mark.parametrize("command", [["scan", "MUSIC"], ["report"], ["history"], ["undo"]])
def test_every_command_says_what_to_do_with_a_corrupt_cache(music, tmp_path, command):
    bad = tmp_path / "tagger.db"
    bad.write_bytes(np.random.default_rng(0).bytes(10_000))
    args = [str(music) if a == "MUSIC" else a for a in command]
    result = CliRunner().invoke(app, [*args, "--db", str(bad)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {bad}: the cache is corrupt (file is not a database); "
                             "move it away or use --db\n")


def test_a_read_only_cache_stops_the_scan_with_an_error_not_a_traceback(music, db):
    """The cache holds Misc's result; the scan of Rock reads it, decodes and
    analyses the first file, and fails to store it: the cache file cannot be
    written (mode 0444, in a child that file modes apply to)."""
    assert CliRunner().invoke(app, ["scan", str(music / "Misc"), "--db", str(db), "-q"]
                              ).exit_code == 0
    db.chmod(0o444)
    proc = run_tagger("scan", music / "Rock", music / "Misc", "--db", db, "-j", "1", "-q")
    assert proc.returncode == 1
    assert proc.stderr == (f"Error: {db}: the cache cannot be written (attempt to write a "
                           "readonly database); check the permissions of the file and its "
                           "folder, or use --db\n")
    assert proc.stdout == ""


def test_a_cache_in_a_read_only_folder_is_an_error(music, tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    db = folder / "tagger.db"
    proc = run_tagger("scan", music / "Misc", "--db", db, "-q")
    assert proc.returncode == 1
    assert proc.stderr == (f"Error: {db}: the cache cannot be written (unable to open database "
                           "file); check the permissions of the file and its folder, or use "
                           "--db\n")


def test_a_cache_that_cannot_grow_is_an_error(music, db):
    """Writes past a file size limit fail (EFBIG) as on a full disk."""
    assert CliRunner().invoke(app, ["scan", str(music / "Misc"), "--db", str(db), "-q"]
                              ).exit_code == 0
    # 40 kB: room for SQLite's 32 kB shared-memory file, not for the write-ahead log.
    proc = run_tagger("scan", music / "Rock", "--db", db, "-q", max_file_bytes=40_000)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.endswith(f"Error: {db}: cannot read or write the cache (disk I/O "
                                "error); check the disk, or use --db\n")



def test_unsure_round_trips_and_an_older_cache_gains_the_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    cache = Cache(path)
    cache.db["results"].transform(drop={"unsure"})  # a cache written before "unsure"
    cache.close()
    assert "unsure" not in [r[1] for r in sqlite3.connect(path).execute("pragma table_info(results)")]
    cache = Cache(path)
    cache.store(TrackResult("/m/a.flac", "ok", [("rock", 0.4)], unsure=True), 1, 2, "fp", "m")
    cache.store(TrackResult("/m/b.flac", "ok", [("rock", 0.9)]), 1, 2, "fp2", "m")
    assert [r.unsure for r in cache.results()] == [True, False]


def test_a_name_that_is_not_utf8_round_trips(db):
    odd = os.fsdecode(b"/m/bad\xff name.mp3")  # "/m/bad\udcff name.mp3"
    cache = Cache(db)
    cache.store(ok(odd), 10, 20, "fp", "m")
    cache.store(TrackResult(odd + "2", "error", error=f"{odd}2: not audio"), 1, 2, None, "m")
    cache.store(ok("/m/good.mp3"), 10, 20, "fp2", "m")
    assert cache.known("m") == {odd: (10, 20), "/m/good.mp3": (10, 20)}
    assert cached(cache, odd).path == odd
    assert cached(cache, odd + "2").error == "/m/bad\\xff name.mp32: not audio"
    assert [r.path for r in cache.results([odd, "/m/good.mp3"])] == [odd, "/m/good.mp3"]
    assert cache.find_moved("fp", 10, "m").path == odd  # it does not exist
    cache.update_identity(odd, 11, 21, "fp3", ["Jazz"])
    assert cached(cache, odd).current_genres == ["Jazz"]
    cache.forget(odd)
    assert cached(cache, odd) is None
    stored = sqlite3.connect(db).execute(
        "select path from results where typeof(path) = 'blob'").fetchall()
    assert stored == [(b"/m/bad\xff name.mp32",)]


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
    assert cached(cache, "/m/a.flac").album is None
    cache.store(TrackResult("/m/b.flac", "ok", [("rock", 0.8)], album="Quiet"), 1, 2, "g", "m")
    assert [r.album for r in cache.results()] == [None, "Quiet"]
