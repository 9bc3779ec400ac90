"""tagger.store.journal: the undo journal, on real files and a real SQLite file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3

import mutagen
import numpy as np
import pytest
from typer.testing import CliRunner

from audiofiles import ALL_FORMATS, STUB_FORMATS, AudioLibrary, decode
from tagcorpus import CORPUS, build, dump, without_genres
from tagger.tags import inplace as tagcommit
from tagger import tags
from tagger.store.cache import Cache
from tagger.cli import app
from tagger.errors import CacheError, TagError, TaggerError
from tagger.store.cache import file_state
from tagger.store.journal import Journal
from tagger.writing.undo import (ERROR, NOT_IDENTICAL, REFUSED, RESTORED, UNCHANGED, UndoFile,
                                 undo)
from unprivileged import run_tagger


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    return AudioLibrary(tmp_path_factory.mktemp("originals"))



@pytest.fixture
def db(cache):
    return cache.db


@pytest.fixture
def journal(cache):
    return Journal(cache)


def write(journal, run_id, path, new, id3v23=False):
    """What the pipeline does for one file."""
    with tags.parsed_once():
        previous, state = tags.read_genres(path) or None, tags.read_state(path)
        entries = []
        tags.write_genres(path, new, id3v23=id3v23, on_backup=lambda backup: entries.append(
            journal.record_before(run_id, path, previous, new, state, backup=backup)),
            on_edited=lambda delta: journal.record_after(entries[0], *file_state(path), delta))
    return entries[0]


def killed_mid_edit(journal, run_id, path, new):
    """What a kill leaves when it lands inside the in-place edit: a backup
    journaled, the file half rewritten. Returns the backup."""
    backup = tagcommit.make_backup(path, path)
    journal.record_before(run_id, path, tags.read_genres(path) or None, new, backup=backup)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
        f.seek(0)
        f.write(b"\0" * 64)
    return backup


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def audio_of(path):
    return path.read_bytes() if path.suffix.lstrip(".") in STUB_FORMATS else decode(path)


def test_runs_and_entries_are_listed(journal, library, tmp_path):
    assert journal.runs() == []
    assert journal.latest_run() is None
    run = journal.start_run({"min_confidence": 0.6, "id3v23": False})
    tagged = library.copy("flac", tmp_path, tagged=True)
    bare = library.copy("ogg", tmp_path)
    write(journal, run, tagged, ["Jazz"])
    write(journal, run, bare, ["Hip-Hop", "Jazz"])
    journal.finish_run(run)

    [listed] = journal.runs()
    assert listed["id"] == run == journal.latest_run()
    assert listed["options"] == {"min_confidence": 0.6, "id3v23": False}
    assert listed["files_written"] == listed["files_recorded"] == 2
    assert listed["started_at"] <= listed["finished_at"]
    assert listed["undone_at"] is None

    first, second = journal.entries(run)
    assert (first["path"], first["previous_genres"], first["new_genres"]) == (
        str(tagged), ["Rock"], ["Jazz"])
    assert (second["previous_genres"], second["new_genres"]) == (
        None, ["Hip-Hop", "Jazz"])  # None: the file had no genre field
    assert (second["size"], second["mtime_ns"], second["fingerprint"]) == file_state(bare)


def test_record_before_is_committed_before_the_write(journal, tmp_path):
    run = journal.start_run({})
    journal.record_before(run, tmp_path / "a.mp3", ["Rock"], ["Jazz"])
    # Another connection (as after a crash) already sees it.
    other = sqlite3.connect(tmp_path / "cache.db")
    rows = other.execute("select path, previous_genres, written_at "
                         "from write_journal").fetchall()
    other.close()
    assert rows == [(str(tmp_path / "a.mp3"), json.dumps(["Rock"]), None)]


def test_refuses_to_record_inside_an_open_transaction(db, journal, tmp_path):
    run = journal.start_run({})
    db.begin()
    with pytest.raises(CacheError) as e:
        journal.record_before(run, tmp_path / "a.mp3", None, ["Jazz"])
    db.rollback()
    assert "a transaction is open" in str(e.value)


def test_record_for_an_unknown_run_raises(journal, tmp_path):
    with pytest.raises(TaggerError) as e:
        journal.record_before(7, tmp_path / "a.mp3", None, ["Jazz"])
    assert str(e.value) == "no write run 7"


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_undo_gives_every_format_back_its_very_bytes(journal, library,
                                                           tmp_path, name):
    tagged = library.copy(name, tmp_path, tagged=True, stem="tagged")
    bare = library.copy(name, tmp_path, stem="bare")
    hashes = {p: sha256(p) for p in (tagged, bare)}
    run = journal.start_run({})
    write(journal, run, tagged, ["Hip-Hop", "Jazz"])
    write(journal, run, bare, ["Hip-Hop", "Jazz"])
    journal.finish_run(run)

    result = undo(journal)

    assert result.run_id == run
    assert result.files == [UndoFile(str(tagged), RESTORED),
                            UndoFile(str(bare), RESTORED)]
    assert tags.read_genres(tagged) == ["Rock"]
    assert tags.read_genres(bare) == []
    assert {p: sha256(p) for p in (tagged, bare)} == hashes  # the very bytes
    assert journal.runs()[0]["undone_at"] is not None


def test_undoing_twice_is_an_error(journal, library, tmp_path):
    run = journal.start_run({})
    write(journal, run, library.copy("mp3", tmp_path), ["Jazz"])
    undo(journal, run)
    with pytest.raises(TaggerError) as e:
        undo(journal, run)
    assert str(e.value).startswith(f"write run {run} was already undone at ")
    with pytest.raises(TaggerError):
        undo(journal)  # the latest run is that one


def test_undoing_again_retries_only_the_files_that_failed(journal, library, tmp_path, monkeypatch):
    run = journal.start_run({})
    good, bad = library.copy("mp3", tmp_path / "a"), library.copy("flac", tmp_path / "b")
    write(journal, run, good, ["Jazz"])
    write(journal, run, bad, ["Jazz"])
    real = tagcommit.rebuild

    def failing(path, *a, **k):
        if str(path) == str(bad):
            raise TagError("permission denied", path)
        return real(path, *a, **k)

    monkeypatch.setattr(tagcommit, "rebuild", failing)
    first = undo(journal, run)
    assert [f.outcome for f in first.files] == [RESTORED, ERROR]
    monkeypatch.setattr(tagcommit, "rebuild", real)
    again = undo(journal, run)
    assert again.files == [UndoFile(str(bad), RESTORED)]
    assert tags.read_genres(good) == tags.read_genres(bad) == []
    with pytest.raises(TaggerError):
        undo(journal, run)  # nothing left to retry


def test_nothing_to_undo(journal):
    with pytest.raises(TaggerError) as e:
        undo(journal)
    assert str(e.value) == "no write run to undo"
    with pytest.raises(TaggerError) as e:
        undo(journal, 3)
    assert str(e.value) == "no write run 3"


def test_file_changed_since_is_refused_and_the_batch_goes_on(journal, library,
                                                            tmp_path):
    edited = library.copy("mp3", tmp_path, tagged=True, stem="edited")
    kept = library.copy("mp3", tmp_path, tagged=True, stem="kept")
    run = journal.start_run({})
    write(journal, run, edited, ["Jazz"])
    write(journal, run, kept, ["Jazz"])
    tags.write_genres(edited, ["Metal"])  # the user's own tagger, later

    result = undo(journal, run)

    [refused] = result.problems()
    assert refused.path == str(edited)
    assert refused.outcome == REFUSED
    assert refused.reason.startswith("changed since tagger wrote it (")
    assert tags.read_genres(edited) == ["Metal"]
    assert tags.read_genres(kept) == ["Rock"]
    assert result.counts() == {RESTORED: 1, NOT_IDENTICAL: 0, UNCHANGED: 0, REFUSED: 1,
                               ERROR: 0}
    outcomes = {e["path"]: e["undo_outcome"] for e in journal.entries(run)}
    assert outcomes == {str(edited): REFUSED, str(kept): RESTORED}


def test_read_only_file_is_an_error_and_the_batch_goes_on(journal, library,
                                                          tmp_path):
    locked = library.copy("flac", tmp_path, tagged=True, stem="locked")
    other = library.copy("flac", tmp_path, tagged=True, stem="other")
    run = journal.start_run({})
    write(journal, run, locked, ["Jazz"])
    write(journal, run, other, ["Jazz"])
    locked.chmod(0o444)  # changes ctime only: size, mtime, content as written

    result = undo(journal, run)

    assert result.files == [UndoFile(str(locked), ERROR, "file is read-only"),
                            UndoFile(str(other), RESTORED)]
    assert tags.read_genres(locked) == ["Jazz"]
    assert tags.read_genres(other) == ["Rock"]


def test_missing_file_is_refused(journal, library, tmp_path):
    path = library.copy("wv", tmp_path)
    run = journal.start_run({})
    write(journal, run, path, ["Jazz"])
    path.unlink()
    assert undo(journal, run).files == [
        UndoFile(str(path), REFUSED, "file no longer exists")]


def test_killed_mid_write_entries(journal, library, tmp_path):
    # record_before committed, record_after never came: tagger was killed.
    never_written = library.copy("ogg", tmp_path, tagged=True, stem="never")
    written = library.copy("ogg", tmp_path, tagged=True, stem="written")
    other_edit = library.copy("ogg", tmp_path, tagged=True, stem="other")
    run = journal.start_run({})
    journal.record_before(run, never_written, ["Rock"], ["Jazz"])
    journal.record_before(run, written, ["Rock"], ["Jazz"])
    tags.write_genres(written, ["Jazz"])
    journal.record_before(run, other_edit, ["Rock"], ["Jazz"])
    tags.write_genres(other_edit, ["Blues"])

    result = undo(journal, run)

    assert [(f.path, f.outcome) for f in result.files] == [
        (str(never_written), UNCHANGED), (str(written), NOT_IDENTICAL),
        (str(other_edit), REFUSED)]
    assert result.files[1].reason == ("the write was interrupted before its bytes were "
                                      "recorded; its genres are put back as they were")
    assert tags.read_genres(never_written) == ["Rock"]
    assert tags.read_genres(written) == ["Rock"]
    assert tags.read_genres(other_edit) == ["Blues"]


def test_file_written_twice_in_a_run_goes_back_to_the_first_state(journal, library,
                                                                  tmp_path):
    path = library.copy("aac", tmp_path, tagged=True)
    run = journal.start_run({})
    write(journal, run, path, ["Jazz"])
    write(journal, run, path, ["Jazz", "Blues"])
    assert undo(journal, run).counts()[RESTORED] == 1
    assert tags.read_genres(path) == ["Rock"]


def test_write_and_undo_keep_the_files_id3_version(journal, library, tmp_path):
    # --id3v23 only chooses the version of a tag tagger creates.
    path = library.copy("mp3", tmp_path, tagged=True)  # ffmpeg writes v2.4
    run = journal.start_run({"id3v23": True})
    write(journal, run, path, ["Jazz", "Blues"], id3v23=True)
    assert mutagen.File(path).tags.version[:2] == (2, 4)
    undo(journal, run)
    assert mutagen.File(path).tags.version[:2] == (2, 4)
    assert tags.read_genres(path) == ["Rock"]


def test_a_journal_without_states_still_undoes(cache, db, library, tmp_path):
    # A cache written before previous_state existed: the column is added and
    # its entries get their previous genres written back.
    path = library.copy("flac", tmp_path, tagged=True)
    Journal(cache)
    db.execute("alter table write_journal drop column previous_state")
    db["write_runs"].insert({"id": 1, "started_at": "2026-01-01T00:00:00+00:00",
                             "options": "{}"}, pk="id")
    db["write_journal"].insert({
        "id": 1, "run_id": 1, "path": str(path), "previous_genres": '["Rock"]',
        "new_genres": '["Jazz"]', "recorded_at": "2026-01-01T00:00:00+00:00"}, pk="id")
    journal = Journal(cache)
    tags.write_genres(path, ["Jazz"])
    journal.record_after(1, *file_state(path))
    assert journal.entries(1)[0]["previous_state"] is None
    assert undo(journal, 1).files == [UndoFile(
        str(path), NOT_IDENTICAL, "the journal holds no record of its bytes (an older tagger "
        "wrote it); its genres are put back as they were")]
    assert tags.read_genres(path) == ["Rock"]


def test_history_and_undo_say_which_files_cannot_be_given_their_very_bytes(library, tmp_path):
    db = tmp_path / "tagger.db"
    cache = Cache(db)
    journal = Journal(cache)
    exact, older = library.copy("mp3", tmp_path, stem="exact"), library.copy("ogg", tmp_path)
    run = journal.start_run({})
    write(journal, run, exact, ["Jazz"])
    write(journal, run, older, ["Jazz"])
    cache.db.execute("update write_journal set delta = null where path = ?", [str(older)])
    journal.finish_run(run)
    cache.close()

    history = CliRunner().invoke(app, ["history", "--db", str(db)])
    (row,) = [line for line in history.output.splitlines() if line.startswith("│ 1 ")]
    assert [cell.strip() for cell in row.split("│")[4:6]] == ["2", "1 of 2 files"]

    undone = CliRunner().invoke(app, ["undo", "--db", str(db)])
    assert undone.exit_code == 0
    assert undone.output == (
        f"{older}: not identical: the journal holds no record of its bytes (an older tagger "
        "wrote it); its genres are put back as they were\n"
        "Undo of write run 1: 1 not identical, 1 restored\n")


def test_ctrl_c_during_an_undo_exits_130_saying_what_to_do(library, tmp_path, monkeypatch):
    db = tmp_path / "tagger.db"
    cache = Cache(db)
    journal = Journal(cache)
    path = library.copy("mp3", tmp_path)
    write(journal, journal.start_run({}), path, ["Jazz"])
    cache.close()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tagcommit, "rebuild", interrupted)
    result = CliRunner().invoke(app, ["undo", "--db", str(db)])
    assert result.exit_code == 130
    assert result.output == "Interrupted: run the same command to undo the rest.\n"


def test_undo_function_takes_the_journal(cache, library, tmp_path):
    journal = Journal(cache)
    path = library.copy("wma", tmp_path, tagged=True)
    run = journal.start_run({})
    write(journal, run, path, ["Jazz"])
    journal.finish_run(run)
    assert undo(Journal(cache)).files == [UndoFile(str(path), RESTORED)]
    assert tags.read_genres(path) == ["Rock"]


def test_journal_tables_live_beside_the_caches(cache):
    Journal(cache)
    Journal(cache)  # opening again is harmless
    assert set(cache.db.table_names()) == {"results", "write_runs", "write_journal"}


def test_file_state_is_the_files_size_time_and_content(library, tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)
    st = path.stat()
    size, mtime_ns, fp = file_state(path)
    assert (size, mtime_ns) == (path.stat().st_size, st.st_mtime_ns) == (
        len(path.read_bytes()), st.st_mtime_ns)
    twin = tmp_path / "elsewhere" / "twin.flac"  # the same bytes under another name
    twin.parent.mkdir()
    shutil.copy2(path, twin)
    assert file_state(twin)[::2] == (size, fp)
    tags.write_genres(path, ["Jazz"])  # a tag edit changes the content
    assert file_state(path)[2] != fp


def test_recover_puts_a_killed_edits_backup_back_into_the_same_file(journal, library,
                                                                    tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)
    link = tmp_path / "link.flac"
    os.link(path, link)
    data, before = path.read_bytes(), path.stat()
    run = journal.start_run({})
    backup = killed_mid_edit(journal, run, path, ["Jazz"])
    assert [e["backup"] for e in journal.entries(run)] == [str(backup)]

    assert journal.recover() == [str(path)]

    assert path.read_bytes() == link.read_bytes() == data
    after = path.stat()
    assert (after.st_ino, after.st_nlink, after.st_mtime_ns) == (
        before.st_ino, 2, before.st_mtime_ns)
    assert not backup.exists()
    assert [e["backup"] for e in journal.entries(run)] == [None]
    assert journal.recover() == []
    assert undo(journal, run).files == [UndoFile(
        str(path), UNCHANGED, "the write never happened; genres are as before")]


def test_a_finished_write_leaves_no_backup_to_recover(journal, library, tmp_path):
    path = library.copy("mp3", tmp_path, tagged=True)
    run = journal.start_run({})
    write(journal, run, path, ["Jazz"])
    assert [e["backup"] for e in journal.entries(run)] == [None]
    assert journal.recover() == []
    assert tags.read_genres(path) == ["Jazz"]


def test_undo_recovers_first(journal, library, tmp_path):
    written = library.copy("ogg", tmp_path, tagged=True, stem="written")
    broken = library.copy("ogg", tmp_path, tagged=True, stem="broken")
    data = broken.read_bytes()
    run = journal.start_run({})
    write(journal, run, written, ["Jazz"])
    killed_mid_edit(journal, run, broken, ["Jazz"])

    result = undo(journal, run)

    assert [(f.path, f.outcome) for f in result.files] == [
        (str(written), RESTORED), (str(broken), UNCHANGED)]
    assert broken.read_bytes() == data
    assert tags.read_genres(written) == ["Rock"]


def test_undo_gives_the_cache_each_files_new_identity(tmp_path, library):
    from tagger.store.cache import Cache, TrackResult, fingerprint

    cache = Cache(tmp_path / "cache.db")
    journal = Journal(cache)
    path = library.copy("flac", tmp_path, tagged=True)
    link = tmp_path / "link.flac"
    link.symlink_to(path)
    for name in (path, link):  # the scan knew the file under both names
        st = os.stat(name)
        cache.store(TrackResult(str(name), "ok", [("jazz", 0.9)], current_genres=["Rock"]),
                    st.st_size, st.st_mtime_ns, fingerprint(str(name), st.st_size), "m")
    run = journal.start_run({})
    write(journal, run, path, ["Jazz"])
    cache.retagged(str(path), ["Jazz"])

    undo(journal, run)

    st = path.stat()
    assert cache.known("m") == {str(path): (st.st_size, st.st_mtime_ns),
                                str(link): (st.st_size, st.st_mtime_ns)}
    assert [r.current_genres for r in cache.results([str(path), str(link)])] == [["Rock"]] * 2


def test_a_run_with_refused_files_stays_undoable(journal, library, tmp_path):
    edited = library.copy("mp3", tmp_path, tagged=True, stem="edited")
    kept = library.copy("mp3", tmp_path, tagged=True, stem="kept")
    run = journal.start_run({})
    write(journal, run, edited, ["Jazz"])
    write(journal, run, kept, ["Jazz"])
    as_written, st = edited.read_bytes(), edited.stat()
    tags.write_genres(edited, ["Metal"])  # another program

    first = undo(journal, run)
    assert [f.outcome for f in first.files] == [REFUSED, RESTORED]
    assert journal.runs()[0]["undone_at"] is None

    edited.write_bytes(as_written)  # the user puts tagger's write back
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = undo(journal, run)
    assert again.files == [UndoFile(str(edited), RESTORED)]
    assert tags.read_genres(edited) == tags.read_genres(kept) == ["Rock"]
    assert journal.runs()[0]["undone_at"] is not None


def test_a_name_that_is_not_utf8_is_journaled_and_undone(journal, library, tmp_path):
    path = library.copy("mp3", tmp_path, tagged=True)
    odd = tmp_path / os.fsdecode(b"bad\xff name.mp3")
    path.rename(odd)
    run = journal.start_run({})
    write(journal, run, odd, ["Jazz"])
    assert [e["path"] for e in journal.entries(run)] == [str(odd)]
    assert undo(journal, run).files == [UndoFile(str(odd), RESTORED)]
    assert tags.read_genres(odd) == ["Rock"]


# --- the odd-layout corpus (tagcorpus.py): write changes genres only, undo is exact ---

@pytest.mark.parametrize("id3v23", [False, True], ids=["default", "id3v23"])
@pytest.mark.parametrize("name", CORPUS)
def test_write_changes_only_genres_and_undo_restores_every_tag(journal, tmp_path,
                                                               name, id3v23):
    path = build(name, tmp_path)
    before, raw = dump(path), path.read_bytes()
    audio = audio_of(path)
    run = journal.start_run({"id3v23": id3v23})

    write(journal, run, path, ["Jazz", "Blues"], id3v23=id3v23)

    after = dump(path)
    assert without_genres(after) == without_genres(before)
    assert after != before
    assert tags.read_genres(path) == ["Jazz", "Blues"]  # every field says it
    assert audio_of(path) == audio if name.split("-")[0] not in STUB_FORMATS \
        else path.read_bytes().startswith(audio[:4096])

    assert undo(journal, run).files == [UndoFile(str(path), RESTORED)]

    assert dump(path) == before
    assert sha256(path) == hashlib.sha256(raw).hexdigest()  # the very bytes


@pytest.mark.parametrize("name", CORPUS)
def test_without_its_delta_undo_puts_every_genre_field_back_as_stored(journal, db, tmp_path,
                                                                      name):
    path = build(name, tmp_path)
    before = dump(path)
    run = journal.start_run({})
    write(journal, run, path, ["Jazz", "Blues"])
    db.execute("update write_journal set delta = null")  # as an older tagger journaled it

    [undone] = undo(journal, run).files

    assert undone.outcome == NOT_IDENTICAL
    assert dump(path) == before


def test_the_corpus_has_the_layouts_that_move_bytes(tmp_path):
    # What makes byte-exact undo hard: a write that renumbers every later Ogg
    # page, and an MP4 whose moov atom (holding the tags) sits before the audio.
    ogg = build("ogg-comment-pages", tmp_path)
    pages = ogg.read_bytes().count(b"OggS")
    tags.write_genres(ogg, ["Jazz", "Blues"])
    assert ogg.read_bytes().count(b"OggS") > pages
    m4a = build("m4a-moov-first", tmp_path).read_bytes()
    assert 0 < m4a.index(b"moov") < m4a.index(b"mdat")


def test_a_file_whose_bytes_changed_unseen_gets_its_genres_back(journal, library, tmp_path):
    # Another program changed a byte between the fingerprint's blocks and
    # kept the file's time: the delta no longer applies, the genres go back.
    path = library.copy("wav", tmp_path, tagged=True, stem="long")
    with open(path, "ab") as f:  # long enough for a middle outside the fingerprint
        f.write(bytes(600_000))
    run = journal.start_run({})
    write(journal, run, path, ["Jazz"])
    st = path.stat()
    with open(path, "r+b") as f:
        f.seek(st.st_size // 4)
        f.write(b"\x01")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    assert undo(journal, run).files == [UndoFile(
        str(path), NOT_IDENTICAL,
        "its bytes changed since tagger wrote it; its genres are put back as they were")]
    assert tags.read_genres(path) == ["Rock"]


# --- a cache SQLite cannot use: the cache's one-line error, as the scan gives it ---

def _journal_with_a_run(db_path, entries=1):
    cache = Cache(db_path)
    journal = Journal(cache)
    run = journal.start_run({})
    for i in range(entries):  # long genre lists: the journal fills several pages
        journal.record_before(run, db_path.parent / f"{i:03d}.mp3", None,
                              [f"Genre {g}" for g in range(200)])
    cache.close()


@pytest.mark.parametrize("command", ["history", "undo"])
def test_a_read_only_cache_gives_the_caches_error(tmp_path, command):
    db = tmp_path / "tagger.db"
    Cache(db).close()  # no journal yet: history and undo must create its tables
    db.chmod(0o444)
    proc = run_tagger(command, "--db", db)
    assert proc.returncode == 1
    assert proc.stderr == (f"Error: {db}: the cache cannot be written (attempt to write a "
                           "readonly database); check the permissions of the file and its "
                           "folder, or use --db\n")


@pytest.mark.parametrize("command", ["history", "undo"])
def test_a_journal_corrupt_past_the_first_page_gives_the_caches_error(tmp_path, command):
    db = tmp_path / "tagger.db"
    _journal_with_a_run(db, entries=20)
    with open(db, "r+b") as f:  # the tables' pages, not the schema on page 1
        f.seek(8192)
        f.write(np.random.default_rng(0).bytes(8 * 4096))
    result = CliRunner().invoke(app, [command, "--db", str(db)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {db}: the cache is corrupt (database disk image is "
                             "malformed); move it away or use --db\n")


def test_a_cache_another_program_is_writing_gives_the_caches_error(tmp_path, monkeypatch):
    from tagger.store import cache as cache_module

    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT", 100)  # ms, not 30 s
    db = tmp_path / "tagger.db"
    _journal_with_a_run(db)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("begin immediate")  # a writer: readers go on, the undo must wait
    try:
        result = CliRunner().invoke(app, ["undo", "--db", str(db)])
    finally:
        other.execute("rollback")
        other.close()
    assert result.exit_code == 1
    assert result.output == (f"Error: {db}: the cache is locked by another program (database "
                             "is locked); close it or use --db\n")
