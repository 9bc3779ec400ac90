"""SIGKILL `tagger scan --write` at random moments, restart it, and check that
nothing was lost: audio unchanged, finished tracks not analysed again, every
written file in the journal, no temp file left, and undo restores everything."""

import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from audiofiles import decode, make_audio
from tagger import tags
from tagger.constants import TEMP_MARKER

KILLS = 8
FORMATS = [("a.mp3", None), ("b.flac", None), ("c.ogg", None), ("d.m4a", "aac"),
           ("e.wav", None), ("f.opus", None), ("g.aiff", None), ("h.wv", None),
           ("i.wma", None), ("j.m4a", "alac")]


# The tagger command, with a pause of argv[1] seconds before each file's write.
PAUSED_WRITES = """
import sys, time
from tagger import writer
from tagger.cli import app

delay, write_one = float(sys.argv[1]), writer._write_one

def paused(*args, **kwargs):
    time.sleep(delay)
    return write_one(*args, **kwargs)

writer._write_one = paused
app(args=sys.argv[2:], prog_name="tagger")
"""


def tagger(*args, delay: float = 0.0):
    return subprocess.Popen([sys.executable, "-c", PAUSED_WRITES, str(delay), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


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
        for p in files:
            assert decode(p) == audio[p], p
    final = tagger(*args)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    # The last run analysed only what the killed runs had not finished, plus
    # at most the one file a kill caught between its tag write and the
    # cache's record of the file's new identity.
    analysed = int(re.search(rb"(\d+) analysed", out).group(1))
    assert analysed <= len(files) - done_before + 1, out
    assert not [p for p in library.iterdir() if TEMP_MARKER in p.name]
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

    from tagger.cache import Cache

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
