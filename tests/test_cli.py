import csv
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from audiofiles import decode
from tagger import tags
from tagger.cli import app

runner = CliRunner()
COMMANDS = ["scan", "report", "undo", "history", "train", "evaluate"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


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
    assert [set(g) for g in good["genres"]] == [{"genre", "confidence"}] * 10
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
    from tagger import pipeline
    monkeypatch.setattr(pipeline, "DecodePool", None)
    out = tmp_path / "again.json"
    result = run("report", music / "Jazz", "--db", db, "-o", out)
    assert result.exit_code == 0
    assert len(json.loads(out.read_text())) == 3


def test_dry_run_says_what_write_would_do_and_writes_nothing(music, db, tmp_path):
    before = {p: p.read_bytes() for p in music.rglob("*") if p.is_file()}
    out = tmp_path / "r.json"
    run("scan", music, "--db", db, "--min-confidence", "0", "--report", out, "-q")
    assert {p: p.read_bytes() for p in music.rglob("*") if p.is_file()} == before
    records = json.loads(out.read_text())
    assert {r["action"] for r in records} == {"write"}
    # The dry run names the tag text the write would put in, not the label.
    from tagger.policy import DEFAULT_DISPLAY_NAMES

    for r in records:
        assert r["write_genres"] == [DEFAULT_DISPLAY_NAMES[r["genres"][0]["genre"]]]


def test_write_then_undo_restores_tags_and_never_touches_audio(music, db):
    wav = music / "Rock" / "Band – Album" / "01 ünïcode tone.wav"
    flac = music / "Rock" / "Band – Album" / "02 drums.flac"
    tags.write_genres(flac, ["Old Genre"])
    files = [p for p in music.rglob("*") if tags.supports(p) and ".hidden" not in str(p)]
    audio = {p: decode(p) for p in files}
    before = {p: tags.read_genres(p) for p in files}

    result = run("scan", music, "--db", db, "--write", "--overwrite", "--min-confidence", "0", "-q")
    assert result.exit_code == 0, result.output
    assert "Write run 1: 6 files written, 0 failed. Undo with: tagger undo 1" in result.output
    for p in files:
        written = tags.read_genres(p)
        assert len(written) == 1 and written != before[p]
        assert decode(p) == audio[p]
    # A re-scan after writing analyses nothing: tagger knows its own writes.
    again = run("scan", music, "--db", db, "-q")
    assert "0 analysed, 6 from cache" in again.output

    history = run("history", "--db", db)
    assert history.exit_code == 0 and "1" in history.output

    undone = run("undo", "--db", db)
    assert undone.exit_code == 0, undone.output
    assert undone.output.strip() == "Undo of write run 1: 6 restored"
    assert {p: tags.read_genres(p) for p in files} == before
    assert all(decode(p) == audio[p] for p in files)
    assert tags.read_genres(wav) == []

    twice = run("undo", "1", "--db", db)
    assert twice.exit_code == 1 and twice.output.startswith("Error: write run 1 was already undone")


def test_write_keeps_existing_genres_by_default(music, db):
    flac = music / "Rock" / "Band – Album" / "02 drums.flac"
    tags.write_genres(flac, ["Shoegaze"])
    result = run("scan", music, "--db", db, "--write", "--min-confidence", "0", "-q")
    assert "5 files written" in result.output
    assert tags.read_genres(flac) == ["Shoegaze"]


def test_write_refuses_a_file_changed_since_it_was_analysed(music, db):
    run("scan", music / "Misc", "--db", db, "-q")
    m4a = music / "Misc" / "aac tone.m4a"
    # Changed after the scan, between analysis and write: simulated by
    # writing from a scan whose cached identity no longer matches.
    from tagger.cache import Cache
    from tagger.policy import Decision
    from tagger.write import apply

    cache = Cache(db)
    st = m4a.stat()
    os.utime(m4a, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    run_id, outcomes = apply([({"path": str(m4a)}, Decision("write", ["Jazz"]))], cache,
                             {str(m4a): (st.st_size, st.st_mtime_ns)}, {}, [str(music)])
    assert [(o.action, o.reason) for o in outcomes] == [
        ("error", "changed since it was analysed; scan again")]
    assert tags.read_genres(m4a) == []


def test_write_reports_a_file_deleted_since_it_was_analysed(music, db):
    from tagger.cache import Cache
    from tagger.policy import Decision
    from tagger.write import apply

    gone = music / "Misc" / "aac tone.m4a"
    st = gone.stat()
    gone.unlink()
    kept = music / "Jazz" / "noise track.mp3"
    kst = kept.stat()
    run_id, outcomes = apply(
        [({"path": str(gone)}, Decision("write", ["Jazz"])),
         ({"path": str(kept)}, Decision("write", ["Jazz"]))],
        Cache(db), {str(gone): (st.st_size, st.st_mtime_ns),
                    str(kept): (kst.st_size, kst.st_mtime_ns)}, {}, [str(music)])
    assert [(o.action, o.reason) for o in outcomes] == [
        ("error", "cannot write: No such file or directory"), ("written", "Jazz")]
    assert tags.read_genres(kept) == ["Jazz"]
