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
    from tagger.model.tfruntime import import_tensorflow

    import_tensorflow()
    from tagger.model.network import musicnn_backbone

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
    from tagger.model.network import musicnn_backbone

    free = musicnn_backbone(96, None)
    free.set_weights(port.get_weights())
    x = np.random.default_rng(0).uniform(0, 3, (1, 300, 96)).astype(np.float32)
    assert free.predict(x, verbose=0)["embedding"].shape == (1, 1706)


def _frames_pair(backbone):
    from tagger.model.network import musicnn_framewise

    return musicnn_framewise(backbone, prune=False)[0], musicnn_framewise(backbone)[0]


@pytest.fixture(scope="module")
def free(port):
    from tagger.model.network import musicnn_backbone

    model = musicnn_backbone(96, None)
    model.set_weights(port.get_weights())
    return model


@pytest.mark.parametrize("frames", [5, 187, 700])
def test_live_filter_network_matches_the_whole_network(free, frames):
    """Frame-wise features of real chunks (and of shorter and longer input,
    where the mid-end's zero padding matters) from the live filters only."""
    ref = np.load(REFERENCE)["logmel"]
    x = np.concatenate(list(ref) * 4)[None, :frames]
    whole, live = _frames_pair(free)
    a, b = whole.predict(x, verbose=0), live.predict(x, verbose=0)
    assert a.shape == b.shape == (1, frames, 753)
    np.testing.assert_allclose(b, a, atol=1e-3, rtol=1e-5)


def test_the_checkpoint_front_end_is_mostly_dead_filters(free):
    from tagger.model.network import musicnn_frames

    live = {layer.name: layer.kernel.shape[-1] for layer in musicnn_frames(free).layers
            if layer.name.startswith("live_conv2d") and layer.name != "live_conv2d_5"}
    # 65 of musicnn's 561 front-end filters are live (see DEAD_FILTER_NORM).
    assert sum(live.values()) == 65
    assert live["live_conv2d"] < 204 and live["live_conv2d_1"] < 204


def test_pruning_is_exact_for_any_pattern_of_dead_filters(free):
    """Random front-end filters, every other one zeroed, random biases (dead
    filters give relu(bias) > 0 or 0 before batch normalisation) and some
    negative batch-norm scales."""
    from tagger.model.network import musicnn_backbone

    rng = np.random.default_rng(1)
    model = musicnn_backbone(96, None)
    model.set_weights(free.get_weights())
    for i, name in enumerate(("conv2d", "conv2d_1", "conv2d_2", "conv2d_3", "conv2d_4")):
        conv = model.get_layer(name)
        kernel = rng.normal(0, 0.05, conv.kernel.shape).astype(np.float32)
        kernel[..., ::2] = 0
        conv.set_weights([kernel, rng.normal(0, 0.5, conv.bias.shape).astype(np.float32)])
        bn = model.get_layer(f"batch_normalization_{i + 1}")
        gamma, beta, mean, var = bn.get_weights()
        gamma[1::3] *= -1  # negative scales: max over frequency becomes min
        bn.set_weights([gamma, beta, mean, var])
    x = rng.uniform(0, 3, (2, 300, 96)).astype(np.float32)
    whole, live = _frames_pair(model)
    np.testing.assert_allclose(live.predict(x, verbose=0), whole.predict(x, verbose=0),
                               atol=1e-3, rtol=1e-4)


def test_bfloat16_live_network_runs_in_bfloat16_within_3_percent(free):
    from tagger.model.network import musicnn_frames

    ref = np.load(REFERENCE)["logmel"]
    x = np.concatenate(list(ref) * 4)[None, :700]
    exact = musicnn_frames(free)
    fast = musicnn_frames(free, precision="bfloat16")
    assert fast.get_layer("live_conv2d").compute_dtype == "bfloat16"
    a, b = exact.predict(x, verbose=0), fast.predict(x, verbose=0)
    assert b.dtype == np.float32 and b.shape == a.shape
    # Measured: 1.1 % mean relative difference on real music.
    error = np.abs(a - b).mean() / np.abs(a).mean()
    assert 1e-4 < error < 0.03


def test_derived_sizes_are_musicnn_s(free):
    from tagger.model.network import EMBEDDING_SIZE, FRAME_FEATURES, POOLED_SIZE

    assert (FRAME_FEATURES, POOLED_SIZE, EMBEDDING_SIZE) == (753, 1506, 1706)
    assert free.get_layer("midend").output.shape[-1] == FRAME_FEATURES
    assert free.output["embedding"].shape[-1] == EMBEDDING_SIZE
