import re
import subprocess

import numpy as np
import pytest
import soundfile as sf

import fakedecoder
from audiofiles import ffmpeg_exe, make_audio, signal
from tagger.features import MUSICNN_FRONTEND as FE
from tagger.workers import DecodePool, analyse

@pytest.fixture
def files(tmp_path):
    return [str(make_audio(tmp_path / f"{name}.flac", 2.0, "drums"))
            for name in ("one", "crash-me", "two", "hang-me", "three")]


def test_pool_decodes_every_file(files):
    with DecodePool(FE, jobs=2) as pool:
        out = {d.path: d for d in pool.imap((p, None) for p in files)}
    assert set(out) == set(files)
    for d in out.values():
        assert d.error is None and d.spec.shape == (2 * FE.sample_rate // FE.hop_length + 1, FE.n_mels) and d.duration == pytest.approx(2.0)


def test_a_crashing_or_hanging_decoder_costs_only_its_file(files):
    with DecodePool(FE, jobs=2, timeout=10, analyse=fakedecoder.analyse) as pool:
        out = {d.path: d for d in pool.imap((p, None) for p in files)}
    errors = {p.rsplit("/", 1)[1]: d.error for p, d in out.items()}
    assert errors == {"one.flac": None, "two.flac": None, "three.flac": None,
                      "crash-me.flac": "decoder crashed (SIGSEGV)",
                      "hang-me.flac": "decoder timed out after 10 s"}


def test_fast_decodes_only_the_windows(tmp_path):
    path = str(make_audio(tmp_path / "long.ogg", 30.0, "drums"))
    d = analyse(path, FE, fast=4)
    assert d.error is None
    assert d.spec.shape == (4 * FE.chunk_frames, FE.n_mels)  # four chunks' worth, not 30 s
    assert d.duration == pytest.approx(30.0, abs=0.1)


def test_decode_errors_come_back_as_reasons(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF" + b"\0" * 10)
    d = analyse(str(bad), FE)
    assert d.spec is None and d.error


def _wait(condition, seconds: float = 60.0) -> bool:
    import time

    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_the_workers_go_on_while_the_consumer_is_busy(files):
    """Every file is decoded before the consumer asks for the first result
    (as while TensorFlow loads), within the backlog's bound."""
    files = [f for f in files if "-me" not in f]
    with DecodePool(FE, jobs=2) as pool:
        results = pool.imap((p, None) for p in files)
        assert _wait(lambda: not pool._thread.is_alive())
        assert sorted(d.path for d in results) == sorted(files)


def test_the_backlog_is_bounded(files, monkeypatch):
    from tagger import workers

    monkeypatch.setattr(workers, "BACKLOG_BYTES", 1)  # room for one result only
    files = [f for f in files if "-me" not in f] * 2
    with DecodePool(FE, jobs=1) as pool:
        results = pool.imap((p, None) for p in files)
        # One result waits, the worker holds the next (finished), the rest wait untouched.
        assert not _wait(lambda: not pool._thread.is_alive(), seconds=3.0)
        assert len(list(results)) == len(files)


def _cut(path, keep_share: float, extra_bytes: int = 0):
    """A copy of ``path`` holding only its first bytes, as an interrupted download."""
    data = path.read_bytes()
    cut = path.with_name("cut-" + path.name)
    cut.write_bytes(data[: int(len(data) * keep_share) + extra_bytes])
    return cut


@pytest.mark.parametrize("fast", [None, 6], ids=["full", "fast"])
@pytest.mark.parametrize("name", ["a.wav", "a.mp3", "a.flac", "a.ogg"])
def test_a_file_cut_after_its_first_second_is_an_error_not_a_genre(tmp_path, name, fast):
    whole = make_audio(tmp_path / name, 60.0, "drums")
    assert analyse(str(whole), FE, fast).error is None
    # About the first second (plus an Ogg's 4 KB of codebooks, an Ogg page at most).
    cut = _cut(whole, 1.2 / 60, 4096 if name.endswith(".ogg") else 0)
    d = analyse(str(cut), FE, fast)
    assert d.spec is None
    if name.endswith(".ogg"):  # Ogg headers declare no length: too short to judge
        assert re.fullmatch(r"too short to analyse \(1\.\d\d s; the model needs 1\.5 s\)",
                            d.error), d.error
    else:
        assert re.fullmatch(r"truncated: 1\.\d s of the 1 min 0 s its header declares",
                            d.error), d.error


def test_a_truncated_long_track_is_found_too(tmp_path):
    """Tracks over LONG_TRACK seconds are decoded in segments: the same check."""
    cut = _cut(make_audio(tmp_path / "a.flac", 200.0, "drums"), 0.5)
    assert re.fullmatch(r"truncated: 1 min [34]\d s of the 3 min 20 s its header declares",
                        analyse(str(cut), FE).error)


def test_audio_too_short_to_judge_is_not_analysed(tmp_path):
    """Half of a 3 s chunk is the least the model judges: a shorter track
    would fill its chunk by repeating itself."""
    short = analyse(str(make_audio(tmp_path / "short.flac", 1.2, "drums")), FE)
    assert short.error == "too short to analyse (1.20 s; the model needs 1.5 s)"
    assert analyse(str(make_audio(tmp_path / "ok.flac", 1.6, "drums")), FE).error is None


def test_a_vbr_mp3_without_a_xing_header_is_not_called_truncated(tmp_path):
    """Without a Xing header mutagen estimates the length from the first
    frame's bitrate: a quiet start makes that far too long a VBR file."""
    wav = tmp_path / "quiet-start.wav"
    sf.write(wav, np.concatenate([signal(10.0, "silence"), signal(20.0, "noise")])[:, 0], 44_100)
    mp3 = tmp_path / "vbr.mp3"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(wav), "-c:a", "libmp3lame",
                    "-q:a", "0", "-write_xing", "0", str(mp3)], check=True)
    for fast in (None, 6):
        d = analyse(str(mp3), FE, fast)
        assert d.error is None
    assert analyse(str(mp3), FE).duration == pytest.approx(30.0, abs=0.1)
