"""tagger.writing.choices: a person's decisions, typed, into a plan the writer
writes through the journal (and undo undoes); the decisions file."""

from __future__ import annotations

import json
import os

import pytest
from mutagen.id3 import ID3, TCON, TIT2

from audiofiles import decode, make_audio
from tagger import tags
from tagger.errors import TaggerError
from tagger.store.cache import Cache, TrackResult, fingerprint
from tagger.store.journal import Journal
from tagger.writing import choices as C
from tagger.writing.choices import AlbumDecision, Choice, Verdict, plan_choices
from tagger.results import Action
from tagger.writing.policy import DEFAULT_DISPLAY_NAMES, WritePolicy, plan

UNCHANGED, UNSURE, WRITE = Action.UNCHANGED, Action.UNSURE, Action.WRITE
from tagger.writing.undo import undo
from tagger.writing.writer import SKIPPED, WRITTEN, apply

POLICY = WritePolicy(min_confidence=0.9, display_names={**DEFAULT_DISPLAY_NAMES, "hiphop": "Rap"})


def res(path, *genres, current=(), album=None, unsure=False, status="ok"):
    return TrackResult(str(path), status, list(genres), current_genres=list(current),
                       album=album, unsure=unsure)


def analysed(cache: Cache, path, *genres, current=(), unsure=False) -> TrackResult:
    st = os.stat(path)
    r = res(path, *genres, current=current, unsure=unsure)
    cache.store(r, st.st_size, st.st_mtime_ns, fingerprint(str(path), st.st_size), "m")
    return r



A = res("/m/A/1.mp3", ("rock", 0.5), ("metal", 0.4), album="A")
B = res("/m/A/2.mp3", ("metal", 0.45), ("rock", 0.44), album="A")
C3 = res("/m/A/3.mp3", ("rock", 0.35), ("hiphop", 0.3), current=["Rock"], album="A")


@pytest.mark.parametrize("choice, action, genres", [
    (Choice.accept(), WRITE, ["Rock"]),  # the track's own top label, by its display name
    (Choice.accept("metal"), WRITE, ["Metal"]),
    (Choice.pick("hiphop"), WRITE, ["Rap"]),
    (Choice.pick("metal", "rock"), WRITE, ["Metal", "Rock"]),
    (Choice.typed("Shoegaze", " shoegaze ", "Dream Pop"), WRITE, ["Shoegaze", "Dream Pop"]),
    (Choice.reject(), Action.REJECTED, []),
    (Choice.skip(), C.UNDECIDED, []),
])
def test_a_choice_decides_a_file_whatever_the_threshold(choice, action, genres):
    (entry,) = plan_choices([A], {A.path: choice}, POLICY)
    assert (entry.decision.action, entry.decision.genres_to_write) == (action, genres)
    assert entry.chosen
    # The policy alone writes nothing: 0.5 is under its 0.9.
    assert plan([A], POLICY, read=None).to_write() == []


def test_a_person_overrides_unsure_and_replaces_existing_genres():
    unsure = res("/m/u.mp3", ("jazz", 0.3), ("blues", 0.29), current=["Pop"], unsure=True)
    assert plan([unsure], POLICY, read=None).entries[0].decision.action == UNSURE
    (entry,) = plan_choices([unsure], {unsure.path: Choice.pick("blues")}, POLICY)
    assert (entry.decision.action, entry.decision.genres_to_write) == (WRITE, ["Blues"])
    (same,) = plan_choices([C3], {C3.path: Choice.accept()}, POLICY)
    assert same.decision.action == UNCHANGED


def test_an_album_decision_spreads_over_its_tracks_but_not_the_split_ones():
    album = AlbumDecision((A.path, B.path, C3.path), Choice.accept(),
                          tracks={B.path: Choice.typed("Doom")})
    entries = plan_choices([A, B, C3, res("/m/other.mp3", ("jazz", 1.0))], [album], POLICY)
    # The album's proposal is rock: top of two tracks of three (metal: one).
    assert [(e.result.path, e.decision.action, e.decision.genres_to_write) for e in entries] == [
        (A.path, WRITE, ["Rock"]), (B.path, WRITE, ["Doom"]), (C3.path, UNCHANGED, [])]


def test_pick_and_typed_need_a_genre():
    with pytest.raises(TaggerError, match="a 'typed' decision needs a genre"):
        Choice.typed("  ")
    with pytest.raises(TaggerError, match="a 'pick' decision needs a genre"):
        Choice(Verdict.PICK)


def test_chosen_genres_are_written_journalled_and_undone(tmp_path, cache):
    mp3 = make_audio(tmp_path / "a.mp3", 1.0, metadata={"genre": "Pop"})
    audio = decode(mp3)
    r = analysed(cache, mp3, ("rock", 0.4), ("metal", 0.35), current=["Pop"])
    run = apply(plan_choices([r], {r.path: Choice.pick("metal")}, POLICY), cache)
    assert [(o.action, o.genres) for o in run.outcomes] == [(WRITTEN, ("Metal",))]
    assert tags.read_genres(mp3) == ["Metal"] and decode(mp3) == audio
    assert undo(Journal(cache), run.id).counts()["restored"] == 1
    assert tags.read_genres(mp3) == ["Pop"]


def test_a_file_whose_genres_changed_since_the_decision_is_not_written(tmp_path, cache):
    """Another program set a genre, keeping the file's size and time: the
    policy's re-decision would overwrite it; a person's decision is kept off."""
    mp3 = make_audio(tmp_path / "a.mp3", 1.0)
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Title"]))
    tag.save(mp3, padding=lambda info: 1024)
    r = analysed(cache, mp3, ("rock", 0.4))
    st = os.stat(mp3)
    tag = ID3(mp3)
    tag.add(TCON(encoding=3, text=["Polka"]))
    tag.save(mp3, padding=lambda info: info.padding)
    os.utime(mp3, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(mp3).st_size, os.stat(mp3).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    run = apply(plan_choices([r], {r.path: Choice.accept()}, WritePolicy(0.1, existing="overwrite")),
                cache)
    assert [(o.action, o.reason) for o in run.outcomes] == [
        (SKIPPED, "its genres changed since the plan to Polka: keep existing "
                  "(decided when it had none; review it again)")]
    assert tags.read_genres(mp3) == ["Polka"]


def test_the_decisions_file_reads_into_choices_and_the_genres_the_report_showed(tmp_path):
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps({"format": "tagger-decisions", "version": 1, "decisions": [
        {"path": A.path, "verdict": "accept", "genres": ["rock"], "current_genres": []},
        {"path": B.path, "verdict": "typed", "genres": ["Doom"]},
        {"path": C3.path, "verdict": "reject", "genres": [], "current_genres": ["Rock"]}]}),
        encoding="utf-8")
    read, seen = C.read_file(path)
    assert read == {A.path: Choice.accept("rock"), B.path: Choice.typed("Doom"),
                    C3.path: Choice.reject()}
    assert seen == {A.path: [], C3.path: ["Rock"]}
    assert [r.current_genres for r in C.as_seen([A, res(C3.path)], seen)] == [[], ["Rock"]]


def test_a_name_that_is_not_utf8_comes_back_from_the_file_as_the_same_path(tmp_path):
    """The page writes such a name (a lone surrogate in the records) as a
    \\udcxx escape, as JSON.stringify does; it reads back as os.fsdecode's."""
    name = os.fsdecode(b"/music/caf\xe9.mp3")
    path = tmp_path / "d.json"
    path.write_text('{"format": "tagger-decisions", "version": 1, "decisions": ['
                    '{"path": "/music/caf\\udce9.mp3", "verdict": "reject"}]}', encoding="utf-8")
    assert C.read_file(path)[0] == {name: Choice.reject()}


@pytest.mark.parametrize("text, message", [
    ("{", "not a decisions file (not JSON: "),
    ('{"decisions": []}', 'not a decisions file (no "format": "tagger-decisions")'),
    ('{"format": "tagger-decisions", "version": 9, "decisions": []}',
     "decisions file version 9 is not 1; export it again"),
    ('{"format": "tagger-decisions", "version": 1, "decisions": [{"path": "/a", "verdict": "maybe"}]}',
     "not a decisions file (bad entry: 'maybe' is not a valid Verdict)"),
    ('{"format": "tagger-decisions", "version": 1, "decisions": [{"verdict": "reject"}]}',
     "not a decisions file (bad entry: 'path')"),
])
def test_a_bad_decisions_file_is_an_error_naming_it(tmp_path, text, message):
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TaggerError) as e:
        C.read_file(path)
    assert str(e.value).startswith(f"{path}: {message}")
