"""The derived constants keep the values the shipped models were trained with."""

import librosa

from tagger import constants as c


def test_musicnn_chunk_is_musicnn_extractor_formula():
    # musicnn/extractor.py: n_frames = librosa.time_to_frames(input_length, sr,
    # n_fft, hop_length) + 1
    expected = int(librosa.time_to_frames(c.MUSICNN_CHUNK_SECONDS, sr=c.MUSICNN_SAMPLE_RATE,
                                          n_fft=c.MUSICNN_N_FFT,
                                          hop_length=c.MUSICNN_HOP)) + 1
    assert c.MUSICNN_CHUNK_FRAMES == expected == 187


def test_musicnn_chunks_overlap_by_half():
    assert c.MUSICNN_CHUNK_HOP_FRAMES == 94
    assert c.MUSICNN_CHUNK_FRAMES - c.MUSICNN_CHUNK_HOP_FRAMES <= c.MUSICNN_CHUNK_HOP_FRAMES


def test_scratch_chunks():
    assert (c.SCRATCH_CHUNK_FRAMES, c.SCRATCH_CHUNK_HOP_FRAMES) == (250, 125)
    assert c.SCRATCH_CHUNK_FRAMES * c.MUSICNN_HOP == c.SCRATCH_CHUNK_SECONDS * c.MUSICNN_SAMPLE_RATE


def test_shipped_model_front_end_matches():
    import json

    from tagger.audio.features import FrontEnd

    meta = json.loads((c.DEFAULT_MODEL_DIR / "metadata.json").read_text())
    fe = FrontEnd.from_dict(meta["frontend"])
    assert (fe.chunk_frames, fe.chunk_hop_frames) == (c.MUSICNN_CHUNK_FRAMES,
                                                      c.MUSICNN_CHUNK_HOP_FRAMES)
