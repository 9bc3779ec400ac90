"""tagger.writing.writer: apply a plan to real files, journalled, one file's failure
never stopping the rest."""

from __future__ import annotations

import os

import mutagen
import pytest
from mutagen.id3 import ID3, TCON, TIT2

from audiofiles import ALL_FORMATS, AudioLibrary, decode, leftovers, make_audio
from tagger import tags
from tagger.store.cache import Cache, TrackResult, fingerprint
from tagger.store.journal import Journal
from tagger.writing.policy import WritePolicy, plan
from tagger.tags import inplace as tagcommit
from tagger.writing.undo import RESTORED, undo
from tagger.writing.writer import SKIPPED, WRITTEN, WriteRun, apply

POLICY = WritePolicy(min_confidence=0.5)


def analysed(cache: Cache, path, genres=(("jazz", 0.9), ("rock", 0.1))) -> TrackResult:
    """A result as a scan leaves it: stored in the cache with the file's identity."""
    st = os.stat(path)
    result = TrackResult(str(path), "ok", list(genres), current_genres=tags.read_genres(path))
    cache.store(result, st.st_size, st.st_mtime_ns, fingerprint(str(path), st.st_size), "m")
    return result


def set_genre_keeping_size_and_time(path, genre: str) -> None:
    """What an editor with "preserve file times" does: the genre goes into
    the tag's padding, and the file keeps its size and modification time."""
    st = os.stat(path)
    tag = ID3(path)
    tag.add(TCON(encoding=3, text=[genre]))
    tag.save(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(path).st_size, os.stat(path).st_mtime_ns) == (st.st_size, st.st_mtime_ns)


@pytest.fixture
def padded_mp3(tmp_path):
    """An MP3 with an ID3v2 tag (a title, no genre) and 1 KiB of padding."""
    path = make_audio(tmp_path / "padded.mp3", 1.0)
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Title"]))
    tag.save(path, padding=lambda info: 1024)
    return path


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    return AudioLibrary(tmp_path_factory.mktemp("originals"))



def test_write_journals_writes_and_records_the_new_identity(tmp_path, cache):
    flac = make_audio(tmp_path / "a.flac", 1.0)
    audio = decode(flac)
    run = apply(plan([analysed(cache, flac)], POLICY), cache, id3v23=True)
    assert isinstance(run, WriteRun) and run.id == 1
    assert [(o.action, o.reason) for o in run.outcomes] == [(WRITTEN, "Jazz")]
    assert tags.read_genres(flac) == ["Jazz"] and decode(flac) == audio
    st = os.stat(flac)
    assert cache.identity(str(flac)) == (st.st_size, st.st_mtime_ns)
    (entry,) = Journal(cache).entries(run.id)
    assert (entry["previous_genres"], entry["new_genres"]) == (None, ["Jazz"])
    (logged,) = Journal(cache).runs()
    assert logged["options"] == {"min_confidence": 0.5, "top_k": 1, "existing": "keep",
                                 "display_names": POLICY.display_names,
                                 "album_consensus": False, "include": [], "exclude": [],
                                 "id3v23": True}


def test_a_plan_with_nothing_to_write_opens_no_run(tmp_path, cache):
    flac = make_audio(tmp_path / "a.flac", 1.0)
    low = analysed(cache, flac, [("jazz", 0.3)])
    assert apply(plan([low], POLICY), cache) == WriteRun(None, [])
    assert Journal(cache).runs() == []


def test_write_refuses_a_file_changed_since_it_was_analysed(tmp_path, cache):
    m4a = make_audio(tmp_path / "aac tone.m4a", 1.0, codec="aac")
    planned = plan([analysed(cache, m4a)], POLICY)
    st = m4a.stat()
    os.utime(m4a, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    run = apply(planned, cache)
    assert [(o.action, o.reason) for o in run.outcomes] == [
        ("error", "changed since it was analysed; scan again")]
    assert tags.read_genres(m4a) == []


def test_write_reports_a_file_deleted_since_it_was_analysed(tmp_path, cache):
    gone = make_audio(tmp_path / "gone.m4a", 1.0, codec="aac")
    kept = make_audio(tmp_path / "kept.mp3", 1.0)
    planned = plan([analysed(cache, gone), analysed(cache, kept)], POLICY)
    gone.unlink()
    run = apply(planned, cache)
    assert [(o.action, o.reason) for o in run.outcomes] == [
        ("error", "cannot write: No such file or directory"), ("written", "Jazz")]
    assert tags.read_genres(kept) == ["Jazz"]


@pytest.mark.parametrize("existing, after, outcome", [
    ("keep", ["Shoegaze"], (SKIPPED, "its genres changed since the plan to Shoegaze: "
                                     "keep existing (has genres Shoegaze; would write "
                                     "Jazz (jazz 0.90))")),
    ("merge", ["Shoegaze", "Jazz"], (WRITTEN, "Shoegaze; Jazz")),
    ("overwrite", ["Jazz"], (WRITTEN, "Jazz")),
])
def test_a_genre_set_after_the_plan_is_decided_again(padded_mp3, cache, existing, after,
                                                     outcome):
    """Another program sets a genre between the plan and the write, keeping
    the file's size and time: the write reads the file again and the policy
    decides on what it holds now."""
    planned = plan([analysed(cache, padded_mp3)], WritePolicy(0.5, existing=existing))
    assert planned.entries[0].decision.genres_to_write == ["Jazz"]
    set_genre_keeping_size_and_time(padded_mp3, "Shoegaze")
    run = apply(planned, cache)
    assert [(o.action, o.reason) for o in run.outcomes] == [outcome]
    assert tags.read_genres(padded_mp3) == after
    written = [e["path"] for e in Journal(cache).entries(run.id)]
    assert written == ([] if existing == "keep" else [str(padded_mp3)])


def test_stale_temp_files_beside_the_plans_files_are_removed(tmp_path, cache):
    from tagger.constants import TEMP_MARKER

    album = tmp_path / "Artist" / "Album"
    album.mkdir(parents=True)
    flac = make_audio(album / "a.flac", 1.0)
    stale = album / f".a.flac{TEMP_MARKER}x"
    stale.write_bytes(b"half a copy")
    apply(plan([analysed(cache, flac, [("jazz", 0.1)])], POLICY), cache)
    assert not stale.exists()


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_a_write_parses_each_file_at_most_twice(library, tmp_path, cache, monkeypatch, name):
    # Issue 22: the genres and their state (journaled) from one parse, the
    # write's own parse; the journal reads nothing itself.
    path = library.copy(name, tmp_path, tagged=True)
    planned = plan([analysed(cache, path)], WritePolicy(min_confidence=0.5, existing="overwrite"))
    parses = []
    real = mutagen.FileType.__init__

    def counted(self, *args, **kwargs):
        parses.append(type(self).__name__)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(mutagen.FileType, "__init__", counted)
    run = apply(planned, cache)
    monkeypatch.undo()

    assert [o.action for o in run.outcomes] == [WRITTEN]
    assert tags.read_genres(path) == ["Jazz"]
    assert len(parses) <= 2, parses
    (entry,) = Journal(cache).entries(run.id)
    assert entry["previous_state"] == tags.read_state(library.original(name, tagged=True))


def _write_and_undo(cache, files):
    """Write every file through a plan, then undo the run; returns both."""
    run = apply(plan([analysed(cache, p) for p in files], POLICY), cache)
    return run, undo(Journal(cache), run.id)


@pytest.mark.parametrize("names", [
    ["Café.flac", "Cafe\u0301.flac"],  # NFC and NFD: two files in one folder
    ["夜の街を歩く" * 6 + " (remaster).flac",  # 126 bytes: cut in the backup's name
     "夜の街を歩く" * 6 + " (live).flac"],  # the same first 100 bytes
], ids=["nfc-nfd-twins", "long-names"])
def test_twins_and_long_names_are_written_and_undone_each_as_itself(library, tmp_path, cache,
                                                                    names):
    files = [library.copy("flac", tmp_path, stem=name[:-5]) for name in names]
    assert sorted(p.name for p in tmp_path.glob("*.flac")) == sorted(names)  # two files
    original = {p: p.read_bytes() for p in files}

    run, undone = _write_and_undo(cache, files)

    assert [(o.path, o.action) for o in run.outcomes] == [(str(p), WRITTEN) for p in files]
    assert [(f.path, f.outcome) for f in undone.files] == [(str(p), RESTORED) for p in files]
    assert {p: p.read_bytes() for p in files} == original
    assert leftovers(tmp_path) == []


def test_a_leftover_backup_of_a_long_name_is_told_from_its_twins(library, tmp_path, cache):
    # Two names alike in their first 100 bytes: the leftover backup of the
    # one that is gone is kept (it may be the only copy), the other's removed.
    stem = "夜の街を歩く" * 6
    gone, kept = (library.copy("flac", tmp_path, stem=stem + end) for end in (" a", " b"))
    orphan = tagcommit.make_backup(gone, gone)
    stale = tagcommit.make_backup(kept, kept)
    gone.unlink()

    run = apply(plan([analysed(cache, kept)], POLICY), cache)

    assert run.cleaned == [str(stale)]
    assert orphan.exists() and not stale.exists()
