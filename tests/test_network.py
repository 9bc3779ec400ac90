"""The Keras port of musicnn against the original network's outputs
(tests/data/musicnn_reference.npz, made by tests/data/make_musicnn_reference.py
with musicnn 0.1.0's own TF1 graph code and checkpoint)."""

from pathlib import Path

import numpy as np
import pytest

from tagger.constants import MUSICNN_WEIGHTS

REFERENCE = Path(__file__).parent / "data" / "musicnn_reference.npz"


@pytest.fixture(scope="module")
def port():
    from tagger.model import import_tensorflow

    import_tensorflow()
    from tagger.network import musicnn_backbone

    model = musicnn_backbone(96, 187)
    model.load_weights(MUSICNN_WEIGHTS)
    return model


def test_port_matches_the_original_network_within_1e_4(port):
    ref = np.load(REFERENCE)
    out = port.predict(ref["logmel"], verbose=0)
    emb = out["embedding"]
    np.testing.assert_allclose(out["tags"], ref["tags"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(emb[:, 1506:], ref["penultimate"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(emb[:, 753:1506], ref["mean_pool"], atol=1e-4, rtol=0)
    # Max pools reach ~40: compare relative to their size.
    np.testing.assert_allclose(emb[:, :753], ref["max_pool"], atol=1e-4, rtol=1e-5)


def test_reference_is_not_degenerate():
    ref = np.load(REFERENCE)
    assert ref["tags"].shape == (2, 50)
    # Two different chunks give different outputs (the original extractor's
    # batching bug returned the first chunk's features for every chunk).
    assert np.abs(ref["penultimate"][0] - ref["penultimate"][1]).max() > 0.1


def test_the_backbone_takes_any_chunk_length(port):
    from tagger.network import musicnn_backbone

    free = musicnn_backbone(96, None)
    free.set_weights(port.get_weights())
    x = np.random.default_rng(0).uniform(0, 3, (1, 300, 96)).astype(np.float32)
    assert free.predict(x, verbose=0)["embedding"].shape == (1, 1706)
