"""SIGKILL `tagger scan --write` and `tagger undo` at random moments and inside
the in-place tag edit, recover, and check that nothing was lost: every file
whole with its old or new tags, audio unchanged, hard links one file,
finished tracks not analysed again, every written file in the journal, no
temp file or backup left, and undo restores everything.

The runs are started through tests/killable.py, which patches pauses into
tagger's tag writes (tagger itself has no test switches)."""

import hashlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from pathlib import Path

from audiofiles import decode, leftovers, make_audio
from tagger import tags
from tagger.store.cache import Cache
from tagger.store.journal import Journal

KILLABLE = Path(__file__).with_name("killable.py")

KILLS = 8
FORMATS = [("a.mp3", None), ("b.flac", None), ("c.ogg", None), ("d.m4a", "aac"),
           ("e.wav", None), ("f.opus", None), ("g.aiff", None), ("h.wv", None),
           ("i.wma", None), ("j.m4a", "alac")]


MODEL: list = []  # the trusting model (conftest), set for the whole module


@pytest.fixture(autouse=True)
def _scans_use_the_trusting_model(trusting_model):
    MODEL[:] = [trusting_model]


def tagger(*args, delay: float = 0.0, break_at: tuple[int, Path] | None = None):
    """A tagger process: plain, pausing ``delay`` s before each tag write, or
    breaking its ``break_at[0]``-th edit half-way and waiting (see killable.py).
    Scans use the trusting model (conftest): generated audio must get genres
    for the writes to happen."""
    if args[:1] == ("scan",):
        args = (*args, "--model", MODEL[0])
    if break_at is not None:
        cmd = [KILLABLE, "break-at", *break_at, "--"]
    elif delay:
        cmd = [KILLABLE, "pause", delay, "--"]
    else:
        cmd = ["-m", "tagger"]
    return subprocess.Popen([sys.executable, *map(str, cmd), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def recover(db) -> None:
    """tagger's recovery, as the next write run or undo starts with it."""
    if os.path.exists(db):
        cache = Cache(db)
        Journal(cache).recover()
        cache.close()


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    for i, (name, codec) in enumerate(FORMATS * 2):
        meta = {"genre": "Old"} if i % 2 else None  # half carry a genre already
        make_audio(root / f"{i // len(FORMATS)}{name}", 4.0, "drums" if i % 3 else "tone",
                   codec=codec, metadata=meta)
    return root


def test_killed_scans_and_writes_lose_nothing(library, tmp_path):
    db = tmp_path / "cache.db"
    files = sorted(library.iterdir())
    audio = {p: decode(p) for p in files}
    before = {p: tags.read_genres(p) for p in files}
    rng = random.Random(0)
    args = ("scan", library, "--db", db, "--write", "--overwrite", "--min-confidence", "0",
            "-q", "-j", "2")
    done_before = mid_write = unfinished = 0
    for i in range(KILLS):
        # Writes paused 0.3 s each, so that kills land between and inside them.
        proc = tagger(*args, delay=0.3)
        if i % 2 == 0:  # anywhere: start-up, decoding, analysis or writing
            time.sleep(rng.uniform(2.0, 9.0))
        else:  # in the middle of writing: once the journal grows
            entries = _journal_entries(db)
            deadline = time.monotonic() + 120
            while (_journal_entries(db) == entries and proc.poll() is None
                   and time.monotonic() < deadline):
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        mid_write += _unfinished_runs(db) > unfinished
        unfinished = _unfinished_runs(db)
        done = _analysed(db)
        assert done >= done_before  # committed results survive every kill
        done_before = done
        recover(db)
        for p in files:  # whole, with the old tags or one new genre
            assert decode(p) == audio[p], p
            assert tags.read_genres(p) == before[p] or len(tags.read_genres(p)) == 1, p
    final = tagger(*args)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    # The last run analysed only what the killed runs had not finished, plus
    # at most the one file a kill caught between its tag write and the
    # cache's record of the file's new identity.
    analysed = int(re.search(rb"(\d+) analysed", out).group(1))
    assert analysed <= len(files) - done_before + 1, out
    assert leftovers(library) == []
    after = {p: tags.read_genres(p) for p in files}
    assert all(len(g) == 1 for g in after.values())
    journal = _journaled(db)
    assert {str(p) for p in files if after[p] != before[p]} <= journal
    for p in files:
        assert decode(p) == audio[p], p

    runs = sqlite3.connect(db).execute(
        "select id from write_runs order by id desc").fetchall()
    assert mid_write >= 2  # kills that landed while a run was writing files
    for (run_id,) in runs:
        undo = tagger("undo", run_id, "--db", db)
        _, err = undo.communicate(timeout=120)
        assert undo.returncode == 0, err.decode()
    assert {p: tags.read_genres(p) for p in files} == before
    for p in files:
        assert decode(p) == audio[p], p


def _wait_for(ready: Path, proc) -> Path:
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.05)  # the path is written
    return Path(ready.read_text(encoding="utf-8"))


def test_kills_inside_the_in_place_edit_are_recovered(library, tmp_path):
    db = tmp_path / "cache.db"
    files = sorted(library.iterdir())
    seeding = tmp_path / "seeding"  # hard links, as a download client keeps them
    seeding.mkdir()
    for p in files:
        os.link(p, seeding / p.name)
    audio = {p: decode(p) for p in files}
    before = {p: tags.read_genres(p) for p in files}
    sizes = {p: p.stat().st_size for p in files}
    scan = ("scan", library, "--db", db, "--write", "--overwrite", "--min-confidence", "0",
            "-q", "-j", "2")
    analysed = tagger("scan", library, "--db", db, "-q", "-j", "2")
    assert analysed.wait(timeout=300) == 0

    def check(expected):
        for p in files:
            assert decode(p) == audio[p], p
            assert tags.read_genres(p) == expected(p), p
            assert p.stat().st_nlink == 2 and os.path.samefile(p, seeding / p.name), p
        assert leftovers(library) == []

    broken = []
    for n in range(1, len(FORMATS) + 1):  # the nth file's write is cut half-way
        ready = tmp_path / f"write-{n}"
        proc = tagger(*scan, break_at=(n, ready))
        victim = _wait_for(ready, proc)
        broken.append(victim.suffix)
        assert victim.stat().st_size < sizes[victim]  # really broken when killed
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        undo = tagger("undo", "--db", db)  # recovers, then undoes the n - 1 written
        _, err = undo.communicate(timeout=120)
        assert undo.returncode == 0, err.decode()
        check(before.__getitem__)
    assert set(broken) == {p.suffix for p in files}

    final = tagger(*scan)
    assert final.wait(timeout=300) == 0, final.stderr.read().decode()
    written = {p: tags.read_genres(p) for p in files}
    assert all(len(g) == 1 for g in written.values())
    written_sizes = {p: p.stat().st_size for p in files}
    for n in (1, len(files) // 2):  # now kill undos inside their edits
        ready = tmp_path / f"undo-{n}"
        proc = tagger("undo", "--db", db, break_at=(n, ready))
        victim = _wait_for(ready, proc)
        assert victim.stat().st_size < written_sizes[victim]  # really broken
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        recover(db)
        check(lambda p: before[p] if tags.read_genres(p) == before[p] else written[p])
    undo = tagger("undo", "--db", db)
    _, err = undo.communicate(timeout=120)
    assert undo.returncode == 0, err.decode()
    check(before.__getitem__)


def test_ctrl_c_during_writes_leaves_nothing_and_undo_gives_every_byte_back(tmp_path):
    """Issue 23.2: Ctrl-C (SIGINT) at random moments of a 24-file write, each
    followed by tagger undo, four times: the write exits 130 with no file of
    ours beside the music, and undo gives every file back its very bytes."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(8):  # big enough that a Ctrl-C often lands in a backup copy
        make_audio(lib / f"{i} big.wav", 40.0, "noise", metadata={"genre": "Old"})
    for i, (name, codec) in enumerate((FORMATS * 2)[:16]):
        make_audio(lib / f"{i}{name}", 2.0, "drums", codec=codec,
                   metadata={"genre": "Old"} if i % 2 else None)
    files = sorted(lib.iterdir())
    original = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    db = tmp_path / "cache.db"
    assert tagger("scan", lib, "--db", db, "-q", "-j", "2").wait(timeout=600) == 0
    rng = random.Random(23)
    codes = []
    for _ in range(4):
        entries = _journal_entries(db)
        proc = tagger("scan", lib, "--db", db, "--write", "--overwrite", "--min-confidence",
                      "0", "-q", "-j", "2")
        deadline = time.monotonic() + 120
        while _journal_entries(db) == entries and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 1.0))  # the write has begun: anywhere in it
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        codes.append(proc.returncode)
        # Unless the run had finished (and maybe got the signal as Python exits).
        assert proc.returncode == 130 or b"files written" in out, err.decode()
        assert leftovers(lib) == []
        undo = tagger("undo", "--db", db)
        _, err = undo.communicate(timeout=300)
        assert undo.returncode == 0, err.decode()
        assert leftovers(lib) == []
        assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files} == original
    assert 130 in codes


def test_a_plain_scan_after_a_killed_write_reads_the_file_as_it_was(tmp_path):
    """A write killed half-way through a file's edit; then a dry run (no
    --write): it first puts the backup back, says so, and scans the
    original file."""
    import json

    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("a.flac", "b.mp3"):
        make_audio(lib / name, 4.0, "drums", metadata={"genre": "Old"})
    files = sorted(lib.iterdir())
    original = {p: p.read_bytes() for p in files}
    db = tmp_path / "cache.db"
    first = tagger("scan", lib, "--db", db, "-q", "--report", tmp_path / "first.json")
    assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    assert _count(db, "select count(*) from sqlite_master where name like 'write_%'") == 0

    ready = tmp_path / "ready"
    proc = tagger("scan", lib, "--db", db, "--write", "--overwrite", "--min-confidence", "0",
                  "-q", break_at=(1, ready))
    victim = _wait_for(ready, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert victim.read_bytes() != original[victim]  # half-written when killed

    again = tagger("scan", lib, "--db", db, "-q", "--report", tmp_path / "again.json")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    assert f"Restored 1 file from backup (a write was interrupted): {victim}" in err.decode()
    assert {p: p.read_bytes() for p in files} == original
    assert leftovers(lib) == []
    before, after = ({r["path"]: r for r in json.loads((tmp_path / name).read_text())}
                     for name in ("first.json", "again.json"))
    row = after[str(victim)]
    assert row["status"] == "ok" and row["from_cache"] and row["current_genres"] == ["Old"]
    assert row["genres"] == before[str(victim)]["genres"]
    assert _count(db, "select count(*) from write_journal where backup is not null") == 0


def _count(db, sql: str) -> int:
    """A count from the cache database; 0 before the database or table exists
    (a run killed at start-up)."""
    try:
        return sqlite3.connect(db).execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _analysed(db) -> int:
    return _count(db, "select count(*) from results where status = 'ok'")


def _unfinished_runs(db) -> int:
    return _count(db, "select count(*) from write_runs where finished_at is null")


def _journal_entries(db) -> int:
    return _count(db, "select count(*) from write_journal")


def _journaled(db) -> set[str]:
    return {p for (p,) in sqlite3.connect(db).execute("select path from write_journal")}


def test_a_second_run_on_the_same_cache_waits_its_turn(library, tmp_path):
    import threading

    from tagger.store.cache import Cache

    db = tmp_path / "cache.db"
    cache = Cache(db)
    lines = []
    with cache.lock():
        proc = tagger("scan", library / "0a.mp3", "--db", db, "-q")
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr))
        reader.start()
        deadline = time.monotonic() + 120
        while not any(b"Waiting for another tagger run" in ln for ln in lines):
            assert proc.poll() is None, "the second run did not wait"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert _analysed(db) == 0  # it waits before touching anything
    out = proc.stdout.read()
    assert proc.wait(timeout=120) == 0
    reader.join()
    assert b"1 files found: 1 analysed" in out
    assert lines[0].decode().strip() == f"Waiting for another tagger run using {db} ..."
