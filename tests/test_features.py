from pathlib import Path

import numpy as np
import pytest

from tagger.audio.analysis import analyse
from tagger.audio.features import (MUSICNN_FRONTEND as FE, chunk_starts, chunked, fast_windows,
                             log_mel, streamed_log_mel)

SR = FE.sample_rate  # Hz
REFERENCE = Path(__file__).parent / "data" / "musicnn_reference.npz"


def test_log_mel_shape_and_range():
    y = np.random.default_rng(0).uniform(-0.5, 0.5, SR * 2).astype(np.float32)
    spec = log_mel(y, FE)
    assert spec.shape == (2 * SR // FE.hop_length + 1, FE.n_mels)
    assert spec.dtype == np.float32
    assert spec.min() >= 0 and np.isfinite(spec).all()


def test_loud_input_does_not_overflow():
    # musicnn's own front-end cast mel power to float16 and overflowed here.
    y = np.ones(SR, np.float32) * 1.0
    y[::2] = -1.0
    assert np.isfinite(log_mel(y, FE)).all()


def musicnn_reference_signal() -> np.ndarray:
    """The 7 s signal (a chirp, noise, clicks every 250 ms) whose log-mels
    tests/data/make_musicnn_reference.py stored: the same seed and formula."""
    rng = np.random.default_rng(0)
    t = np.arange(SR * 7) / SR
    y = 0.3 * np.sin(2 * np.pi * (220 + 200 * t) * t) + 0.05 * rng.standard_normal(t.size)
    y[:: SR // 4] += 0.8
    return y.astype(np.float32)


def test_log_mel_is_musicnns_front_end():
    """Against the log-mels stored by make_musicnn_reference.py (musicnn's
    front end: librosa mel power, log10(10000 mel + 1), no float16 cast):
    frames 0-186 and 150-336 of the reference signal."""
    ref = np.load(REFERENCE)["logmel"]
    spec = log_mel(musicnn_reference_signal(), FE)
    frames = ref.shape[1]
    np.testing.assert_allclose(np.stack([spec[:frames], spec[150:150 + frames]]), ref,
                               atol=1e-5, rtol=0)


def test_the_log_mel_of_a_file_is_that_of_the_samples_written_to_it(tmp_path):
    """A file decoded as a scan decodes it (analysis.analyse), against
    librosa called here on the samples written to the file with musicnn's
    documented parameters: 16 kHz, 512-sample FFT, hop 256, 96 mel bands,
    log10(10000 mel power + 1)."""
    import librosa
    import soundfile as sf

    y = musicnn_reference_signal()
    path = tmp_path / "a.wav"
    sf.write(path, y, SR, subtype="FLOAT")  # the very samples
    mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
    expected = np.log10(10000 * mel.T + 1)
    got = analyse(str(path), FE).spec
    assert got.shape == expected.shape == (len(y) // 256 + 1, 96)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


# Worked examples for musicnn's chunks: 187 frames every 94 (test_constants
# checks how those are derived).
@pytest.mark.parametrize("frames, expected", [
    (100, [0]), (187, [0]), (188, [0, 1]), (281, [0, 94]), (282, [0, 94, 95]),
    (400, [0, 94, 188, 213]),
])
def test_chunk_starts_overlap_and_cover_the_tail(frames, expected):
    assert chunk_starts(frames, FE) == expected


def test_chunks_are_views_of_the_spectrogram():
    spec = np.arange(400 * 96, dtype=np.float32).reshape(400, 96)
    c = chunked(spec, FE).take()
    assert c.shape == (4, 187, 96)
    np.testing.assert_array_equal(c[1], spec[94:281])
    np.testing.assert_array_equal(c[-1], spec[-187:])


def test_a_short_track_is_padded_by_repetition_not_dropped():
    spec = np.arange(50 * 96, dtype=np.float32).reshape(50, 96)
    c = chunked(spec, FE).take()
    assert c.shape == (1, 187, 96)
    np.testing.assert_array_equal(c[0, 50:100], spec)


def test_fast_windows_spread_over_the_middle_of_the_track():
    w = fast_windows(240.0, 4, 3.0)
    assert len(w) == 4 and all(24 - 1.5 <= s <= 216 for s in w)
    assert np.all(np.diff(w) > 40)
    assert fast_windows(2.0, 4, 3.0) == (0.0,)
    assert all(0 <= s <= 7 for s in fast_windows(10.0, 4, 3.0))


@pytest.mark.parametrize("segment", [1000, 4096, SR * 3 + 77, SR * 20])
def test_streamed_log_mel_is_the_whole_track_log_mel(segment):
    """Segments of any length (not a whole number of hops, shorter than an
    FFT, longer than the track) give the frames of one whole-track STFT."""
    y = np.random.default_rng(4).uniform(-0.5, 0.5, SR * 10 + 123).astype(np.float32)
    spec, seconds = streamed_log_mel((y[i: i + segment] for i in range(0, len(y), segment)), FE)
    whole = log_mel(y, FE)
    assert spec.shape == whole.shape
    assert seconds == len(y) / SR
    np.testing.assert_allclose(spec, whole, atol=1e-4, rtol=1e-5)

