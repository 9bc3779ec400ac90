"""tagger.audio.chunks: the decode pool over a list of files, each track cut into chunks."""

import numpy as np
import pytest

from tagger.audio import chunks
from tagger.constants import DEFAULT_MODEL_DIR
from tagger.model.card import read_card

FE = read_card(DEFAULT_MODEL_DIR).frontend  # the shipped model's


@pytest.mark.parametrize("fast", [False, True])
def test_decoding_starts_the_pool_on_entry_and_chunks_each_track(tmp_path, monkeypatch, fast):
    from audiofiles import make_audio
    from tagger.audio.features import chunked
    from tagger.audio.analysis import analyse
    from tagger.audio.workers import DecodePool

    paths = [str(make_audio(tmp_path / f"{n}.flac", s, "drums")) for n, s in (("a", 5.0), ("b", 2.0))]
    (tmp_path / "bad.mp3").write_text("not audio")
    started = []

    class Watched(DecodePool):
        def imap(self, tasks):
            started.append(True)
            return super().imap(tasks)

    monkeypatch.setattr(chunks, "DecodePool", Watched)
    with chunks.decoding(paths + [str(tmp_path / "bad.mp3")], FE, jobs=2, fast=fast) as items:
        assert started  # decoding runs while the caller gets ready (loads a model)
        got = {d.path: (d, c) for d, c in items}
    assert got[str(tmp_path / "bad.mp3")][1] is None and got[str(tmp_path / "bad.mp3")][0].error
    for path in paths:
        decoded, cut = got[path]
        alone = analyse(path, FE, chunks.FAST_WINDOWS if fast else None)
        expected = chunked(alone.spec, FE, FE.chunk_frames if fast else None)
        assert cut.starts == expected.starts
        np.testing.assert_allclose(cut.take(), expected.take(), atol=1e-5)
    assert [d.path for d, _ in chunks.decode_chunks(paths, FE, jobs=1)] == paths
