"""Awkward and broken files: each ends as an analysed track or as one row
with a clear reason; the batch always finishes; no traceback reaches the user."""

import json
import os

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from audiofiles import make_audio, signal
from tagger.cli import app
from unprivileged import can_read, run_tagger

runner = CliRunner()

ANALYSED = "ok"
TRUNCATED = {
    "half-t.mp3": "truncated: 2.0 s of the 4.0 s its header declares",
    "half-t.flac": "truncated: 1.9 s of the 4.0 s its header declares",
    "half-t.wav": "truncated: 2.0 s of the 4.0 s its header declares",
    "half-t.m4a": "truncated or incomplete MP4/M4A file (no moov atom)",
}
# Too short to judge: results, unsure, never written (an Ogg cut in half
# holds 1 s and declares no length: it is a short file).
TOO_SHORT = {
    "half-t.ogg": "too short to judge: 1.0 s",
    "short.flac": "too short to judge: 0.5 s",
}


@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    """name -> expected status ("ok", or the error reason)."""
    root = tmp_path_factory.mktemp("awkward")
    expected = {}

    def full(name, seconds=4.0, kind="drums", **kw):
        return make_audio(root / name, seconds, kind, **kw)

    for name, codec in (("t.mp3", None), ("t.flac", None), ("t.ogg", None),
                        ("t.m4a", "aac"), ("t.wav", None)):
        data = full("whole-" + name, codec=codec).read_bytes()
        (root / ("header-only-" + name)).write_bytes(data[:64])
        (root / ("half-" + name)).write_bytes(data[: len(data) // 2])
        expected["whole-" + name] = ANALYSED
    # Header-only files hold no audio; cut in half, a file whose header
    # declares its length is truncated, an Ogg (no declared length) is too
    # short to judge, an M4A has lost its index (moov atom) at the end.
    expected.update(TRUNCATED)
    expected.update(dict.fromkeys(TOO_SHORT, ANALYSED))
    (root / "zero.mp3").write_bytes(b"")
    expected["zero.mp3"] = "empty file (0 bytes)"
    (root / "random.flac").write_bytes(np.random.default_rng(0).bytes(20_000))
    expected["random.flac"] = "not an audio file, or a format ffmpeg cannot read"
    (root / "text.ogg").write_text("just some text\n" * 100)
    expected["text.ogg"] = "not an audio file, or a format ffmpeg cannot read"
    (root / "really-a-wav.mp3").write_bytes(full("tmp.wav").read_bytes())
    (root / "tmp.wav").unlink()
    expected["really-a-wav.mp3"] = ANALYSED
    # AAC named .mp3, as downloaded: libsndfile took these for MPEG audio.
    full("adts.aac", codec="aac").rename(root / "really-adts-aac.mp3")
    full("aac.m4a", codec="aac").rename(root / "really-m4a.mp3")
    expected["really-adts-aac.mp3"] = expected["really-m4a.mp3"] = ANALYSED
    for name in ("cover.jpg", "notes.txt", "album.cue", ".DS_Store"):
        (root / name).write_bytes(b"\xff\xd8 not audio")
    full("short.flac", 0.5)
    full("silence.flac", 4.0, "silence")
    full("8k.wav", sample_rate=8000)
    full("192k.flac", sample_rate=192_000)
    full("surround-5.1.wav", channels=6)
    full("UPPER.FLAC")
    for subtype in ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT"):
        sf.write(root / f"{subtype}.wav", signal(4.0, "drums")[:, 0], 44_100, subtype=subtype)
        expected[f"{subtype}.wav"] = ANALYSED
    for name in ("emoji 🎵.mp3", "quote ' \" .ogg", "$(touch pwned).flac", "-leading dash.m4a",
                 "new\nline.wav"):
        full(name, codec="aac" if name.endswith("m4a") else None)
        expected[name] = ANALYSED
    numeric = full("numeric-genre.mp3", metadata={"genre": "(17)"})
    expected.update({n: ANALYSED for n in ("silence.flac", "8k.wav", "192k.flac",
                                           "surround-5.1.wav", "UPPER.FLAC", "numeric-genre.mp3")})
    for name in ("t.mp3", "t.flac", "t.ogg", "t.m4a", "t.wav"):
        expected["header-only-" + name] = None  # some reason; checked below
    os.symlink(root / "nowhere.mp3", root / "broken-link.mp3")
    expected["broken-link.mp3"] = "broken symbolic link"
    sub = root / "sub"
    sub.mkdir()
    os.symlink(root, sub / "loop")
    assert numeric.exists()
    return root, expected


@pytest.fixture(scope="module")
def scanned(awkward, tmp_path_factory):
    root, expected = awkward
    report = tmp_path_factory.mktemp("report") / "r.json"
    result = runner.invoke(app, ["scan", str(root), "--db", str(report.with_suffix(".db")),
                                 "--report", str(report), "--follow-symlinks", "-q"])
    return result, {os.path.basename(r["path"]): r for r in json.loads(report.read_text())}


def test_every_file_is_one_row_and_the_batch_finishes(awkward, scanned):
    _, expected = awkward
    result, rows = scanned
    assert result.exit_code == 1  # some files failed
    assert "Traceback" not in result.output
    assert sorted(rows) == sorted(expected)  # non-audio files are not rows; the loop once


@pytest.mark.parametrize("name", [
    "whole-t.mp3", "whole-t.flac", "whole-t.ogg", "whole-t.m4a", "whole-t.wav",
    "really-a-wav.mp3", "really-adts-aac.mp3", "really-m4a.mp3", "silence.flac", "8k.wav", "192k.flac",
    "surround-5.1.wav", "UPPER.FLAC", "PCM_U8.wav", "PCM_16.wav", "PCM_24.wav",
    "PCM_32.wav", "FLOAT.wav", "emoji 🎵.mp3", "quote ' \" .ogg", "$(touch pwned).flac",
    "-leading dash.m4a", "new\nline.wav", "numeric-genre.mp3",
])
def test_playable_files_are_analysed(scanned, name):
    _, rows = scanned
    row = rows[name]
    assert row["status"] == "ok", row["error"]
    assert len(row["genres"]) == 11 and 0 < row["genres"][0]["confidence"] <= 1


@pytest.mark.parametrize("name", ["really-a-wav.mp3", "really-adts-aac.mp3", "really-m4a.mp3"])
def test_a_misnamed_file_is_decoded_whole(scanned, name):
    _, rows = scanned
    assert rows[name]["duration"] == pytest.approx(4.0, abs=0.1)


@pytest.mark.parametrize("name, reason", [
    ("zero.mp3", "empty file (0 bytes)"),
    ("random.flac", "not an audio file, or a format ffmpeg cannot read"),
    ("text.ogg", "not an audio file, or a format ffmpeg cannot read"),
    ("broken-link.mp3", "broken symbolic link"),
    *TRUNCATED.items(),
])
def test_broken_files_are_rows_with_reasons(scanned, name, reason):
    _, rows = scanned
    assert rows[name]["status"] == "error"
    assert rows[name]["error"] == reason
    assert rows[name]["genres"] == []


@pytest.mark.parametrize("name, reason", TOO_SHORT.items())
def test_too_short_files_are_unsure_results(scanned, name, reason):
    _, rows = scanned
    row = rows[name]
    assert (row["status"], row["unsure"], row["unsure_reason"]) == ("ok", True, reason)
    assert (row["action"], row["action_reason"]) == ("unsure", reason)


@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg", "m4a", "wav"])
def test_header_only_files_fail_with_a_reason(scanned, ext):
    _, rows = scanned
    row = rows[f"header-only-t.{ext}"]
    assert row["status"] == "error" and row["error"]


def test_numeric_id3v1_genre_is_read_as_its_name(scanned):
    _, rows = scanned
    assert rows["numeric-genre.mp3"]["current_genres"] == ["Rock"]


def test_no_file_name_was_run_as_a_command(awkward):
    root, _ = awkward
    assert not (root / "pwned").exists() and not os.path.exists("pwned")


def test_an_unreadable_file_is_an_error_row_and_the_rest_is_analysed(music, tmp_path):
    """Mode 000, scanned by a process file modes apply to (the tests run as
    root, which reads anything): one row naming the file and why, the
    other six files analysed, exit code 1."""
    locked = music / "Jazz" / "locked.flac"
    make_audio(locked, 4.0, "drums")
    locked.chmod(0)
    assert not can_read(locked) and can_read(music / "Jazz" / "noise track.mp3")
    report = tmp_path / "r.json"
    proc = run_tagger("scan", music, "--db", tmp_path / "c.db", "--report", report, "-j", "2")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{locked}: error: Permission denied" in proc.stderr
    rows = {r["path"]: r for r in json.loads(report.read_text())}
    assert rows.pop(str(locked))["error"] == "Permission denied"
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows.values())
