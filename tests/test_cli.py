import csv
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from audiofiles import decode
from snapshots import folder_bytes
from tagger import tags
from tagger.cli import app

runner = CliRunner()
COMMANDS = ["scan", "report", "undo", "history", "train", "evaluate"]
MODEL: list = []  # the trusting model (conftest), set for the whole module


@pytest.fixture(autouse=True)
def _scans_use_the_trusting_model(trusting_model):
    MODEL[:] = [trusting_model]


def run(*args):
    """The CLI. Scans use the trusting model unless a test names a model:
    these tests are about writing, undo and reports, which need generated
    audio to get a genre (the shipped model rightly calls it unsure)."""
    args = [str(a) for a in args]
    if args[:1] == ["scan"] and "--model" not in args:
        args += ["--model", str(MODEL[0])]
    return runner.invoke(app, args)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example: tagger " + command in result.output


def test_help_does_not_import_tensorflow():
    code = ("import sys; from typer.testing import CliRunner; from tagger.cli import app; "
            "r = CliRunner().invoke(app, ['--help']); "
            "assert r.exit_code == 0; assert 'tensorflow' not in sys.modules, 'tf imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_real_scan_process_names_bad_files_on_stderr_without_tensorflow_noise(music, db):
    """In a real process (stderr is file descriptor 2, which the TensorFlow
    import redirects while a thread imports it): every file's line, the bad
    one's reason included, reaches stderr, and TensorFlow's chatter does not."""
    (music / "Jazz" / "broken.mp3").write_text("not audio")
    proc = subprocess.run([sys.executable, "-m", "tagger", "scan", str(music), "--db", str(db),
                           "-j", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    broken = str(music / "Jazz" / "broken.mp3")
    assert f"{broken}: error: not an audio file, or a format ffmpeg cannot read" in proc.stderr
    assert proc.stderr.count("[") >= 7  # a progress line per file
    assert "cpu_feature_guard" not in proc.stderr and "oneDNN" not in proc.stderr


def test_scan_reports_json_and_csv_with_one_record_per_file(music, db, tmp_path):
    (music / "Jazz" / "broken.mp3").write_text("not audio")
    report = tmp_path / "r.json"
    result = run("scan", music, "--db", db, "--report", report, "-j", "2")
    assert result.exit_code == 1, result.output  # one file failed
    assert "7 files found: 6 analysed, 0 from cache, 1 failed" in result.output
    records = json.loads(report.read_text())
    assert len(records) == 7
    by_name = {os.path.basename(r["path"]): r for r in records}
    bad = by_name["broken.mp3"]
    assert bad["status"] == "error" and bad["genres"] == []
    assert bad["error"] == "not an audio file, or a format ffmpeg cannot read"
    good = by_name["02 drums.flac"]
    assert good["status"] == "ok" and good["error"] is None
    assert [set(g) for g in good["genres"]] == [{"genre", "confidence"}] * 11
    assert good["path"] == str(music / "Rock" / "Band – Album" / "02 drums.flac")

    csv_report = tmp_path / "r.csv"
    again = run("scan", music, "--db", db, "--report", csv_report, "-q")
    assert "7 files found: 0 analysed, 6 from cache, 1 failed" in again.output
    rows = list(csv.DictReader(csv_report.open(encoding="utf-8")))
    assert len(rows) == 7
    assert {r["path"] for r in rows} == {r["path"] for r in records}
    assert "Traceback" not in result.output + again.output


def test_scan_exit_code_zero_when_every_file_is_analysed(music, db):
    result = run("scan", music / "Misc", "--db", db, "-q")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "1 files found: 1 analysed, 0 from cache, 0 failed"


def test_short_files_are_unsure_results_never_written_and_exit_zero(tmp_path, db):
    """A 1 s WAV and a 0.2 s FLAC (a jingle, a sound effect): ok, unsure
    with the reason in the table and the JSON report, not written, exit 0."""
    from audiofiles import make_audio

    folder = tmp_path / "Jingles"
    folder.mkdir()
    make_audio(folder / "jingle.wav", 1.0, "drums")
    make_audio(folder / "effect.flac", 0.2, "noise")
    before = folder_bytes(folder)
    report = tmp_path / "r.json"
    result = run("scan", folder, "--db", db, "--report", report, "--write", "--min-confidence", "0")
    assert result.exit_code == 0, result.output
    assert "2 files found: 2 analysed, 0 from cache, 0 failed" in result.output
    assert "unsure (too short to judge: 1.0 s)" in result.output
    assert "unsure (too short to judge: 0.2 s)" in result.output
    assert "Nothing to write." in result.output
    rows = {os.path.basename(r["path"]): r for r in json.loads(report.read_text())}
    assert {n: (r["status"], r["unsure"], r["unsure_reason"], r["action"])
            for n, r in rows.items()} == {
        "jingle.wav": ("ok", True, "too short to judge: 1.0 s", "unsure"),
        "effect.flac": ("ok", True, "too short to judge: 0.2 s", "unsure")}
    assert folder_bytes(folder) == before


def test_the_summary_counts_duplicates_taken_from_an_identical_file(music, db):
    misc = music / "Misc"
    os.link(misc / "aac tone.m4a", misc / "hard link.m4a")
    (misc / "copy.m4a").write_bytes((misc / "aac tone.m4a").read_bytes())
    result = run("scan", misc, "--db", db, "-q")
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == [
        "3 files found: 1 analysed, 0 from cache, 0 failed",
        "2 duplicates taken from an identical file, not decoded"]


@pytest.mark.parametrize("args, message", [
    (["--report", "out.txt"], "Error: --report: the file must end in .json, .csv or .html"),
    (["--merge", "--overwrite"], "Error: --merge and --overwrite cannot be used together"),
    (["--precision", "half"], "Error: --precision: unknown value 'half' (choose from auto, float32, bfloat16)"),
    (["--device", "tpu"], "Error: --device: unknown value 'tpu' (choose from auto, cpu, gpu)"),
])
def test_usage_errors_exit_2(music, db, args, message):
    result = run("scan", music, "--db", db, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_missing_path_is_a_usage_error(tmp_path):
    result = run("scan", tmp_path / "nope")
    assert result.exit_code == 2


def test_missing_model_is_an_error_without_traceback(music, db, tmp_path):
    result = run("scan", music, "--db", db, "--model", tmp_path)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path}: not a model folder (no metadata.json)"


def test_report_renders_the_cache_without_decoding(music, db, tmp_path, monkeypatch):
    run("scan", music, "--db", db, "-q")
    from tagger.audio import chunks
    monkeypatch.setattr(chunks, "DecodePool", None)
    out = tmp_path / "again.json"
    result = run("report", music / "Jazz", "--db", db, "-o", out)
    assert result.exit_code == 0
    assert len(json.loads(out.read_text())) == 3


def test_dry_run_says_what_write_would_do_and_writes_nothing(music, db, tmp_path):
    before = folder_bytes(music)
    out = tmp_path / "r.json"
    run("scan", music, "--db", db, "--min-confidence", "0", "--report", out, "-q")
    assert folder_bytes(music) == before
    records = json.loads(out.read_text())
    assert {r["action"] for r in records} == {"write"}
    # The dry run names the tag text the write would put in, not the label.
    from tagger.writing.policy import DEFAULT_DISPLAY_NAMES

    for r in records:
        assert r["write_genres"] == [DEFAULT_DISPLAY_NAMES[r["genres"][0]["genre"]]]


def test_write_then_undo_restores_tags_and_never_touches_audio(music, db):
    wav = music / "Rock" / "Band – Album" / "01 ünïcode tone.wav"
    flac = music / "Rock" / "Band – Album" / "02 drums.flac"
    tags.write_genres(flac, ["Old Genre"])
    files = [p for p in music.rglob("*") if tags.supports(p) and ".hidden" not in str(p)]
    audio = {p: decode(p) for p in files}
    before = {p: tags.read_genres(p) for p in files}
    raw = {p: p.read_bytes() for p in files}

    result = run("scan", music, "--db", db, "--write", "--overwrite", "--min-confidence", "0", "-q")
    assert result.exit_code == 0, result.output
    assert f"Write run 1: 6 files written, 0 failed. Undo with: tagger undo 1 --db {db}\n" \
        in result.output
    for p in files:
        written = tags.read_genres(p)
        assert len(written) == 1 and written != before[p]
        assert decode(p) == audio[p]
    # A re-scan after writing analyses nothing: tagger knows its own writes.
    again = run("scan", music, "--db", db, "-q")
    assert "0 analysed, 6 from cache" in again.output

    history = run("history", "--db", db)
    assert history.exit_code == 0
    (row,) = [line for line in history.output.splitlines() if line.startswith("│ 1 ")]
    assert "(interrupted)" not in row and row.split("│")[4].strip() == "6"
    assert row.split("│")[5].strip() == "yes"  # exact undo

    undone = run("undo", "--db", db)
    assert undone.exit_code == 0, undone.output
    assert undone.output.strip() == "Undo of write run 1: 6 restored"
    assert {p: tags.read_genres(p) for p in files} == before
    assert {p: p.read_bytes() for p in files} == raw  # the very bytes
    assert tags.read_genres(wav) == []
    # Nor after an undo: the cache learnt each restored file's identity.
    again = run("scan", music, "--db", db, "-q")
    assert "6 files found: 0 analysed, 6 from cache" in again.output

    twice = run("undo", "1", "--db", db)
    assert twice.exit_code == 1 and twice.output.startswith("Error: write run 1 was already undone")


def test_write_keeps_existing_genres_by_default(music, db):
    flac = music / "Rock" / "Band – Album" / "02 drums.flac"
    tags.write_genres(flac, ["Shoegaze"])
    result = run("scan", music, "--db", db, "--write", "--min-confidence", "0", "-q")
    assert "5 files written" in result.output
    assert tags.read_genres(flac) == ["Shoegaze"]


def test_write_keeps_a_genre_another_program_set_without_changing_size_or_time(music, db):
    """Issue 18.4: an editor with "preserve file times" sets a genre after the
    scan; the cache still says the file has none, and --write (keep) keeps it."""
    from mutagen.id3 import ID3, TCON, TIT2

    mp3 = music / "Jazz" / "noise track.mp3"
    tag = ID3()
    tag.add(TIT2(encoding=3, text=["Title"]))
    tag.save(mp3, padding=lambda info: 1024)  # room for a genre, as most taggers leave
    assert run("scan", music, "--db", db, "-q").exit_code == 0
    st = mp3.stat()
    tag = ID3(mp3)
    tag.add(TCON(encoding=3, text=["Shoegaze"]))
    tag.save(mp3)
    os.utime(mp3, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (mp3.stat().st_size, mp3.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)

    result = run("scan", music, "--db", db, "--write", "--min-confidence", "0", "-q")
    assert result.exit_code == 0, result.output
    assert "0 analysed, 6 from cache" in result.output  # the cache was stale
    assert "Write run 1: 5 files written, 0 failed." in result.output
    assert tags.read_genres(mp3) == ["Shoegaze"]


def _journal(db):
    import sqlite3

    return [p for (p,) in sqlite3.connect(db).execute("select path from write_journal")]


def test_hard_links_and_xattrs_survive_write_and_undo(music, db, tmp_path):
    flac = music / "Rock" / "Band – Album" / "02 drums.flac"
    seeding = tmp_path / "seeding" / "02 drums.flac"  # a download client's copy
    seeding.parent.mkdir()
    os.link(flac, seeding)
    os.setxattr(flac, "user.source", b"seed-42")
    inode = flac.stat().st_ino

    written = run("scan", music / "Rock", "--db", db, "--write", "--min-confidence", "0", "-q")
    assert written.exit_code == 0, written.output
    [genre] = tags.read_genres(flac)
    assert tags.read_genres(seeding) == [genre]
    assert (flac.stat().st_ino, flac.stat().st_nlink) == (inode, 2)
    assert os.getxattr(flac, "user.source") == b"seed-42"

    assert run("undo", "--db", db).exit_code == 0
    assert tags.read_genres(flac) == tags.read_genres(seeding) == []
    assert (flac.stat().st_ino, flac.stat().st_nlink) == (inode, 2)
    assert os.getxattr(seeding, "user.source") == b"seed-42"
    assert [p.name for p in flac.parent.iterdir() if p.name.startswith(".")] == []


def test_a_symlink_a_hard_link_and_their_target_are_one_file_written_once(music, db):
    target = music / "Jazz" / "noise track.mp3"
    link = music / "Jazz" / "a link.mp3"
    link.symlink_to(target.name)
    hard = music / "Jazz" / "b hard link.mp3"
    os.link(target, hard)
    names = (str(target), str(link), str(hard))

    result = run("scan", music / "Jazz", "--db", db, "--write", "--min-confidence", "0", "-q")

    assert result.exit_code == 0, result.output
    assert "Write run 1: 5 files written, 0 failed." in result.output
    assert len([p for p in _journal(db) if p in names]) == 1
    assert tags.read_genres(link) == tags.read_genres(hard) == tags.read_genres(target) != []
    again = run("scan", music / "Jazz", "--db", db, "-q")
    assert "5 files found: 0 analysed, 5 from cache" in again.output
    assert run("undo", "--db", db).exit_code == 0
    assert tags.read_genres(target) == []
    assert "0 analysed, 5 from cache" in run("scan", music / "Jazz", "--db", db, "-q").output


def test_a_hard_link_is_one_file_also_when_a_genre_name_holds_a_semicolon(music, db, tmp_path):
    """The second name of a file was compared with the first name's genres
    split back out of "; "-joined text: a display name holding "; " made it
    an error ("the same file as ..., which was given ...")."""
    from tagger.writing.policy import DEFAULT_DISPLAY_NAMES

    config = tmp_path / "config.toml"
    config.write_text("[display_names]\n" + "".join(
        f'{label} = "{name}; Various"\n' for label, name in DEFAULT_DISPLAY_NAMES.items()))
    target = music / "Jazz" / "noise track.mp3"
    os.link(target, music / "Jazz" / "b hard link.mp3")
    result = run("scan", music / "Jazz", "--db", db, "--write", "--min-confidence", "0",
                 "--config", config, "-q")
    assert result.exit_code == 0, result.output
    assert "Write run 1: 4 files written, 0 failed." in result.output
    assert tags.read_genres(target)[0].endswith("; Various")


def test_a_read_only_file_is_not_journaled(music, db):
    locked = music / "Jazz" / "noise track.mp3"
    locked.chmod(0o444)
    result = run("scan", music / "Jazz", "--db", db, "--write", "--min-confidence", "0", "-q")
    assert result.exit_code == 1
    assert f"{locked}: not written: file is read-only" in result.output
    assert len(_journal(db)) == 2 and str(locked) not in _journal(db)


def test_a_name_that_is_not_utf8_is_scanned_reported_written_and_undone(tmp_path, db):
    from audiofiles import make_audio

    library = tmp_path / "lib"
    library.mkdir()
    odd = library / os.fsdecode(b"bad\xff name.mp3")
    make_audio(odd, 4.0, "drums")
    audio = decode(odd)
    shown = str(library) + "/bad\\xff name.mp3"

    first = run("scan", library, "--db", db, "--report", tmp_path / "r.json")
    assert first.exit_code == 0, first.output
    assert "1 files found: 1 analysed" in first.output
    [rec] = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert rec["path"] == shown and rec["status"] == "ok"

    again = run("scan", library, "--db", db, "-q", "--report", tmp_path / "r.csv")
    assert "1 files found: 0 analysed, 1 from cache" in again.output
    with open(tmp_path / "r.csv", encoding="utf-8", newline="") as f:
        assert [r["path"] for r in csv.DictReader(f)] == [shown]
    assert run("report", "--db", db, "-o", tmp_path / "all.json").exit_code == 0
    assert [r["path"] for r in json.loads((tmp_path / "all.json").read_text())] == [shown]

    written = run("scan", library, "--db", db, "-q", "--write", "--min-confidence", "0")
    assert written.exit_code == 0, written.output
    assert len(tags.read_genres(odd)) == 1 and decode(odd) == audio
    undone = run("undo", "--db", db)
    assert undone.exit_code == 0 and tags.read_genres(odd) == []
    assert "0 analysed, 1 from cache" in run("scan", library, "--db", db, "-q").output
