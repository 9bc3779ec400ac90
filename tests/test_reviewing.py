"""tagger review (tagger.reviewing): album by album in a real terminal, the
decisions kept in the cache and written through the journal; the albums and
their filters; the answers, with scripted input; tagger apply."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

from audiofiles import decode
from tagger import api, tags
from tagger.cli import app
from tagger.reviewing import terminal
from tagger.reviewing.albums import albums, to_review
from tagger.store.cache import TrackResult
from tagger.writing.choices import AlbumDecision, Choice
from tagger.writing.policy import DEFAULT_DISPLAY_NAMES, WritePolicy

ROOT = Path(__file__).resolve().parents[1]
POLICY = WritePolicy(min_confidence=0.5)
runner = CliRunner()


def display(label: str) -> str:
    return DEFAULT_DISPLAY_NAMES.get(label, label)


@pytest.fixture
def scanned(music, db, trusting_model):
    """The generated library plus an album of one in Extra/, scanned into the
    cache with the trusting model (so every file gets a genre)."""
    (music / "Extra").mkdir()
    shutil.copy(music / "Misc" / "aac tone.m4a", music / "Extra" / "one.m4a")
    result = runner.invoke(app, ["scan", str(music), "--db", str(db), "--model",
                                 str(trusting_model), "-q"])
    assert result.exit_code == 0, result.output
    return music


def spawn(*args) -> pexpect.spawn:
    """``tagger ARGS`` in a real pseudo-terminal (this checkout's code)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "TERM": "dumb",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    return pexpect.spawn(sys.executable, ["-m", "tagger", *map(str, args)], env=env,
                         encoding="utf-8", timeout=120, dimensions=(50, 200))


QUESTION = r"\[s\]kip, \[q\]uit\? "


def test_review_in_a_terminal_writes_the_answers_goes_on_where_it_stopped_and_undoes(
        scanned, db, trusting_model):
    music = scanned
    files = sorted(p for p in music.rglob("*") if tags.supports(p) and ".hidden" not in p.parts)
    before = {p: tags.read_genres(p) for p in files}
    audio = {p: decode(p) for p in files}
    cached = {Path(r.path): r for r in api.cached([music], db=db)}
    one, noise = music / "Extra" / "one.m4a", music / "Jazz" / "noise track.mp3"

    child = spawn("review", music, "--db", db, "--model", trusting_model)
    child.expect(r"Album 1 of 5: Music/Extra  1 track")
    child.expect(QUESTION)
    child.sendline("a")  # apply the proposal
    child.expect(r"Album 2 of 5: Music/Jazz  1 track")
    child.expect("noise track.mp3   now: –")
    child.expect(QUESTION)
    child.sendline("x")  # not an answer: asked again
    child.expect(r"Answer a, 2, 3, e, t, r, s or q\.")
    child.expect(QUESTION)
    child.sendline("2")  # the second candidate
    child.expect(r"Album 3 of 5: Music/Jazz/Sub Folder  2 tracks")
    child.expect(QUESTION)
    child.sendline("e")
    child.expect(r"Genre \(; between genres, Tab completes\): ")
    child.send("Dream Pop; Regg\t")  # Tab completes a label's display name
    child.expect("Reggae")
    child.sendline("")
    child.expect(r"Album 4 of 5: Music/Misc  1 track")
    child.expect(QUESTION)
    child.sendline("s")
    child.expect(r"Album 5 of 5: Music/Rock/Band – Album  2 tracks")
    child.expect(QUESTION)
    child.sendline("q")
    child.expect(r"3 decided, 2 left; tagger review goes on where this one stopped\.")
    child.expect(r"Write run 1: 4 files written, 0 failed\. Undo with: tagger undo 1 --db ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    sub = sorted((music / "Jazz" / "Sub Folder").iterdir())
    expected = {**before, one: [display(cached[one].genres[0][0])],
                noise: [display(cached[noise].genres[1][0])],
                **{p: ["Dream Pop", "Reggae"] for p in sub}}
    assert {p: tags.read_genres(p) for p in files} == expected
    assert all(decode(p) == audio[p] for p in files)

    # The next review starts at the skipped album.
    child = spawn("review", music, "--db", db, "--model", trusting_model)
    child.expect(r"Album 1 of 2: Music/Misc  1 track")
    child.expect(QUESTION)
    child.sendline("q")
    child.expect(r"0 decided, 2 left; tagger review goes on where this one stopped\.")
    child.expect("Nothing to write.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    undone = runner.invoke(app, ["undo", "--db", str(db)])
    assert undone.exit_code == 0, undone.output
    assert undone.output == "Undo of write run 1: 4 restored\n"
    assert {p: tags.read_genres(p) for p in files} == before
    assert all(decode(p) == audio[p] for p in files)
    # What an undo took back is asked again.
    assert [a.folder for a in api.review_albums(api.cached([music], db=db), POLICY, db=db)] == sorted(
        str(p) for p in (music / "Extra", music / "Jazz", music / "Jazz" / "Sub Folder",
                         music / "Misc", music / "Rock" / "Band – Album"))


# -- the albums ----------------------------------------------------------------

def res(path, *genres, current=(), album=None, unsure=False, status="ok"):
    return TrackResult(path, status, list(genres), current_genres=list(current), album=album,
                       unsure=unsure)


LIB = [
    res("/m/B/2.flac", ("rock", 0.5), ("metal", 0.4), album="Two"),
    res("/m/B/1.flac", ("metal", 0.6), ("rock", 0.3), album="Two", unsure=True),
    res("/m/B/3.flac", ("rock", 0.7), ("metal", 0.2), album="Two", current=["Rock"]),
    res("/m/B/x.flac", ("jazz", 0.9), current=["Jazz"]),  # no album tag: alone in B
    res("/m/A/a.mp3", ("pop", 0.8), album="Two"),  # same title, another folder
    res("/m/A/bad.mp3", status="error"),
]


def test_albums_group_by_folder_and_tag_and_rank_as_consensus_does():
    found = albums(LIB)
    assert [(a.folder, a.title, [os.path.basename(p) for p in a.paths]) for a in found] == [
        ("/m/A", "Two", ["a.mp3"]), ("/m/B", None, ["x.flac"]),
        ("/m/B", "Two", ["1.flac", "2.flac", "3.flac"])]
    two = found[2]
    assert two.proposal == "rock"  # top of two tracks of three
    assert [(g, round(c, 3)) for g, c in two.candidates] == [("rock", 0.5), ("metal", 0.4)]


@pytest.mark.parametrize("filters, shown", [
    ({}, ["/m/A Two", "/m/B None", "/m/B Two"]),
    ({"unsure": True}, ["/m/B Two"]),
    ({"without_genre": True}, ["/m/A Two"]),
    ({"differs": True}, ["/m/A Two", "/m/B Two"]),  # /m/B's loose track is Jazz already
    ({"unsure": True, "without_genre": True}, []),
])
def test_the_filters_show_unsure_albums_those_without_a_genre_and_those_that_differ(filters, shown):
    assert [f"{a.folder} {a.title}" for a in albums(LIB) if a.shown(POLICY, **filters)] == shown


# -- the answers, scripted -----------------------------------------------------

def scripted(answers, album_list=None, completions=()):
    """Run the terminal review on ``answers`` (an exception in them is raised
    when its turn comes); returns (decisions, output, tally)."""
    answers, out, decided = list(answers), [], []

    def ask(prompt):
        out.append(prompt)
        if not answers:
            raise EOFError
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    tally = terminal.review(album_list or albums(LIB), POLICY, on_decision=decided.append,
                            completions=completions, ask=ask, say=out.append)
    return decided, "\n".join(out), tally


def test_albums_to_review_leave_out_those_decided():
    decided = {"/m/A/a.mp3", "/m/B/1.flac", "/m/B/2.flac"}
    assert [(a.folder, a.title) for a in to_review(LIB, POLICY, decided)] == [
        ("/m/B", None), ("/m/B", "Two")]  # one track of Two is not decided yet
    assert [(a.folder, a.title) for a in to_review(LIB, POLICY, decided, unsure=True)] == [
        ("/m/B", "Two")]


def test_completion_words_are_the_library_genres_and_the_labels_display_names():
    assert terminal.completion_words(LIB, POLICY) == {"Rock", "Jazz", "Metal", "Pop"}


def test_track_by_track_splits_tracks_off_and_skipped_ones_stay_undecided():
    decided, out, tally = scripted(["s", "r", "t", "3", "s", "e", "", "e", "Doom;  Sludge ", "a"])
    one, two, three = albums(LIB)[2].paths
    assert decided == [
        AlbumDecision(("/m/B/x.flac",), Choice.reject()),
        AlbumDecision((), Choice.skip(), {two: Choice.typed("Doom", "Sludge"),
                                          three: Choice.accept("rock")}),
    ]
    assert (tally.decided, tally.skipped, tally.stopped) == (1, 2, False)  # 1.flac is left
    # 1.flac: "3" is no candidate of a track with two; "s" skips it.
    assert "Answer a, 2, e, r, s or q." in out
    assert "1.flac   now: –   Metal 60 % · Rock 30 %   unsure" in out
    assert "Proposal: 1) Rock 50 %, 2) Metal 40 %   (unsure)" in out


def test_the_end_of_the_input_stops_the_review_keeping_what_was_decided():
    decided, out, tally = scripted(["a"])
    assert decided == [AlbumDecision(("/m/A/a.mp3",), Choice.accept("pop"))]
    assert (tally.decided, tally.stopped) == (1, True)
    # Ctrl-C stops too, in a typed genre's line as well.
    for interrupted in (["a", KeyboardInterrupt()], ["a", "e", KeyboardInterrupt()]):
        decided, out, tally = scripted(interrupted)
        assert len(decided) == 1 and (tally.decided, tally.stopped) == (1, True)
    # Quitting halfway through an album's tracks keeps the tracks decided.
    decided, out, tally = scripted(["s", "s", "t", "2", "q"])
    assert decided == [AlbumDecision((), Choice.skip(), {"/m/B/1.flac": Choice.pick("rock")})]
    assert (tally.decided, tally.skipped, tally.stopped) == (0, 2, True)


@pytest.mark.parametrize("text, state, word", [
    ("Ro", 0, "Rock"), ("ro", 1, "Rock'n'Roll"), ("ro", 2, None), (" hip", 0, " Hip-Hop"),
    ("", 0, "Hip-Hop"),
])
def test_completion_offers_the_words_starting_with_what_was_typed(text, state, word):
    completer = terminal._completion(["Hip-Hop", "Rock", "Rock'n'Roll"])
    assert completer.complete(text, state) == word


# -- the API and tagger apply --------------------------------------------------

def test_decisions_are_kept_written_once_and_asked_again_after_an_undo(scanned, db):
    results = api.cached([scanned], db=db)
    found = albums(results)
    sub = next(a for a in found if a.folder.endswith("Sub Folder"))
    misc = next(a for a in found if a.folder.endswith("Misc"))
    api.record_decisions([AlbumDecision(sub.paths, Choice.typed("Krautrock")),
                          AlbumDecision(misc.paths, Choice.reject()),
                          AlbumDecision(found[0].paths, Choice.skip())], results, db=db)
    assert api.decided(db=db) == {**dict.fromkeys(sub.paths, Choice.typed("Krautrock")),
                                  **dict.fromkeys(misc.paths, Choice.reject())}
    run = api.write_decided(POLICY, db=db)
    assert sorted(o.path for o in run.written) == sorted(sub.paths)
    assert all(tags.read_genres(p) == ["Krautrock"] for p in sub.paths)
    assert api.write_decided(POLICY, db=db).id is None  # written once
    api.undo(run.id, db=db)
    assert api.decided(db=db) == dict.fromkeys(misc.paths, Choice.reject())


def test_a_decision_on_a_file_changed_since_is_dropped_and_asked_again(scanned, db):
    results = api.cached([scanned], db=db)
    extra = next(a for a in albums(results) if a.folder.endswith("Extra"))
    api.record_decisions([AlbumDecision(extra.paths, Choice.accept())], results, db=db)
    tags.write_genres(extra.paths[0], ["Changed"])
    run = api.write_decided(POLICY, db=db)
    assert [(o.action, o.reason) for o in run.failed] == [
        ("error", "changed since it was analysed; scan again")]
    assert api.decided(db=db) == {}


def test_every_new_command_has_help_with_an_example():
    for command in ("review", "apply"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and f"Example: tagger {command} " in result.output


def decisions_file(path, entries):
    path.write_text(json.dumps({"format": "tagger-decisions", "version": 1,
                                "decisions": entries}), encoding="utf-8")
    return path


def test_apply_writes_exactly_the_decisions_and_refuses_changed_and_unknown_files(
        scanned, db, tmp_path, trusting_model):
    music = scanned
    one, noise = music / "Extra" / "one.m4a", music / "Jazz" / "noise track.mp3"
    wav = music / "Rock" / "Band – Album" / "01 ünïcode tone.wav"
    changed = music / "Misc" / "aac tone.m4a"
    files = sorted(p for p in music.rglob("*") if tags.supports(p) and ".hidden" not in p.parts)
    before = {p: tags.read_genres(p) for p in files}
    path = decisions_file(tmp_path / "d.json", [
        {"path": str(one), "verdict": "pick", "genres": ["metal"], "current_genres": []},
        {"path": str(noise), "verdict": "typed", "genres": ["Noise Rock"], "current_genres": []},
        {"path": str(wav), "verdict": "reject", "genres": [], "current_genres": []},
        {"path": str(changed), "verdict": "accept", "genres": ["jazz"], "current_genres": []},
        {"path": str(music / "new.mp3"), "verdict": "accept", "genres": ["jazz"]},
    ])
    tags.write_genres(changed, ["Changed after the report"])
    result = runner.invoke(app, ["apply", str(path), "--db", str(db), "--model", str(trusting_model)])
    assert result.exit_code == 1
    assert result.output == (
        f"{music / 'new.mp3'}: not written: not in the cache; scan it first\n"
        f"{changed}: not written: changed since it was analysed; scan again\n"
        f"Write run 1: 2 files written, 2 failed. Undo with: tagger undo 1 --db {db}\n")
    assert {p: tags.read_genres(p) for p in files} == {
        **before, one: ["Metal"], noise: ["Noise Rock"], changed: ["Changed after the report"]}
    undone = runner.invoke(app, ["undo", "--db", str(db)])
    assert undone.output == "Undo of write run 1: 2 restored\n"
    assert tags.read_genres(one) == [] and tags.read_genres(noise) == []


def test_apply_of_a_file_that_is_not_decisions_is_an_error(tmp_path, db):
    bad = tmp_path / "d.json"
    bad.write_text("[]", encoding="utf-8")
    result = runner.invoke(app, ["apply", str(bad), "--db", str(db)])
    assert result.exit_code == 1
    assert result.output == f'Error: {bad}: not a decisions file (no "format": "tagger-decisions")\n'


def test_review_filters_albums_on_the_command_line(scanned, db, trusting_model):
    music = scanned
    m4a = music / "Misc" / "aac tone.m4a"
    tags.write_genres(m4a, ["Jazz"])
    api.retagged({m4a: ["Jazz"]}, db=db)  # as another program would tell the cache
    args = ["review", str(music), "--db", str(db), "--model", str(trusting_model)]
    every = runner.invoke(app, args, input="q\n")
    assert every.exit_code == 0, every.output
    assert "Album 1 of 5: Music/Extra  1 track" in every.output
    without = runner.invoke(app, [*args, "--no-genre"], input="s\ns\ns\nq\n")
    assert [line for line in without.output.splitlines() if line.startswith("Album ")] == [
        "Album 1 of 4: Music/Extra  1 track", "Album 2 of 4: Music/Jazz  1 track",
        "Album 3 of 4: Music/Jazz/Sub Folder  2 tracks",
        "Album 4 of 4: Music/Rock/Band – Album  2 tracks"]
    assert without.output.endswith("0 decided, 4 left; tagger review goes on where this one "
                                   "stopped.\nNothing to write.\n")
    unsure = runner.invoke(app, [*args, "--unsure"], input="")  # the trusting model is sure
    assert unsure.output == "0 decided, 0 left.\nNothing to write.\n"
