import numpy as np
import pytest

from audiofiles import make_audio
from tagger.audio.decode import load_audio
from tagger.audio.features import (MUSICNN_FRONTEND as FE, chunk_starts, chunked, fast_windows,
                             log_mel, streamed_log_mel)

SR = FE.sample_rate  # Hz


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


def test_log_mel_of_a_file_equals_log_mel_of_its_samples(tmp_path):
    path = make_audio(tmp_path / "a.flac", 2.0, "drums", sample_rate=SR)
    y = load_audio(path, SR)
    np.testing.assert_array_equal(log_mel(load_audio(path, SR), FE), log_mel(y, FE))


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

