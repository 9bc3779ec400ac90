"""tagger.audio.analysis: one file -> its log-mel, duration and tags, or the reason
it cannot be analysed (truncated, too short, undecodable)."""

import re
import subprocess

import numpy as np
import pytest
import soundfile as sf

from audiofiles import ALL_FORMATS, AudioLibrary, ffmpeg_exe, make_audio, signal
from parsecount import counting
from tagger import tags
from tagger.audio.analysis import analyse
from tagger.audio.features import MUSICNN_FRONTEND as FE


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
        assert d.error is None
        assert re.fullmatch(r"too short to judge: 1\.\d s", d.unsure_reason), d.unsure_reason
    else:
        assert re.fullmatch(r"truncated: 1\.\d s of the 1 min 0 s its header declares",
                            d.error), d.error


def test_a_truncated_long_track_is_found_too(tmp_path):
    """Tracks over LONG_TRACK seconds are decoded in segments: the same check."""
    cut = _cut(make_audio(tmp_path / "a.flac", 200.0, "drums"), 0.5)
    assert re.fullmatch(r"truncated: 1 min [34]\d s of the 3 min 20 s its header declares",
                        analyse(str(cut), FE).error)


@pytest.mark.parametrize("name, seconds, reason", [
    ("jingle.wav", 1.0, "too short to judge: 1.0 s"),
    ("effect.flac", 0.2, "too short to judge: 0.2 s"),
    ("short.flac", 1.2, "too short to judge: 1.2 s"),
])
def test_audio_too_short_to_judge_is_a_result_without_a_log_mel(tmp_path, name, seconds, reason):
    """Half of a 3 s chunk is the least the model judges: a shorter track
    would fill its chunk by repeating itself. It is no error: its duration
    and tags come back, and why it is not judged."""
    d = analyse(str(make_audio(tmp_path / name, seconds, "drums")), FE)
    assert (d.error, d.spec, d.unsure_reason) == (None, None, reason)
    assert d.duration == pytest.approx(seconds, abs=0.01)
    ok = analyse(str(make_audio(tmp_path / "ok.flac", 1.6, "drums")), FE)
    assert ok.error is None and ok.unsure_reason is None and ok.spec is not None


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


@pytest.mark.parametrize("name", ["long.flac", "long.opus"])
def test_a_long_track_is_decoded_in_one_pass_a_segment_at_a_time(tmp_path, monkeypatch, name):
    from audiofiles import make_audio
    from tagger.audio import analysis, decode
    from tagger.audio.decode import load_audio
    from tagger.audio.features import log_mel

    path = str(make_audio(tmp_path / name, 20.0, "drums"))
    whole = log_mel(load_audio(path, FE.sample_rate), FE)
    monkeypatch.setattr(analysis, "LONG_TRACK", 10.0)
    monkeypatch.setattr(analysis, "SEGMENT", 6.3)  # not a whole number of hops
    pieces = []
    real = decode.stream_audio
    monkeypatch.setattr(analysis, "stream_audio",
                        lambda *a: (pieces.append(len(y)) or y for y in real(*a)))
    monkeypatch.setattr(analysis, "load_audio", None)  # no seeking, no second decode
    d = analysis.analyse(path, FE)
    assert d.error is None
    assert len(pieces) >= 4 and max(pieces) <= 6.3 * FE.sample_rate * 1.05
    assert d.duration == pytest.approx(20.0, abs=0.05)
    # The same frames as one whole-track STFT, segment boundaries included.
    assert d.spec.shape == whole.shape
    np.testing.assert_allclose(d.spec, whole, atol=2e-3)


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_mutagen_parses_each_analysed_file_once(tmp_path, name):
    """Header length, genres and album come from one parse (four before)."""
    path = AudioLibrary(tmp_path, seconds=2.0).original(name, tagged=True)
    decoded, parses = counting(analyse, str(path), FE)
    assert parses == 1
    if name not in ("ape", "mpc"):  # stubs: tags, no audio to decode
        assert decoded.error is None and decoded.current_genres == ["Rock"]
        assert (decoded.current_genres, decoded.album) == (
            tags.read_genres(path), tags.read_album(path))


def test_a_file_named_as_another_format_is_opened_again_as_named_and_still_analysed(tmp_path):
    """mutagen.File follows the content (as the decoder does); the genre field
    follows the extension, so a FLAC named .ogg is opened again by each Ogg
    class (all fail: no genres, no album), and still analysed."""
    path = make_audio(tmp_path / "a.flac", 4.0).rename(tmp_path / "flac.ogg")
    decoded, parses = counting(analyse, str(path), FE)
    assert decoded.error is None and decoded.current_genres == []
    assert parses == 1 + len(tags.GENRE_FIELDS["ogg"].openers)
