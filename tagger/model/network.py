"""Network architectures (Keras 3). Imported only where a network runs.

- ``musicnn_backbone``: a port of Pons & Serra's MSD musicnn (ISC licence),
  layer for layer, with the TF1 variable names of the original checkpoint so
  that ``models/convert_musicnn.py`` can copy the weights by name.
- ``genre_head``: the classifier put on the backbone's embeddings.
- ``cnn`` / ``crnn``: small networks trained from scratch on log-mel chunks.

Every network takes a batch of log-mel chunks shaped (batch, frames, mels) and
the genre models return class probabilities shaped (batch, n_labels).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from ..constants import MUSICNN_N_MELS
from ..errors import ModelError
from .card import ModelCard

# musicnn's own sizes (models.py of the musicnn package): 1.6 x 128 timbral
# filters, 1.6 x 32 temporal filters, a 64-filter mid-end, a 200-unit dense.
TIMBRAL_FILTERS = int(1.6 * 128)  # 204
TEMPORAL_FILTERS = int(1.6 * 32)  # 51
MIDEND_FILTERS = 64
BACKEND_UNITS = 200
MSD_TAGS = 50
BN_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization default
TIMBRAL_WIDTHS = (0.4, 0.7)  # filter heights, as shares of the mel bands
TEMPORAL_LENGTHS = (128, 64, 32)  # filter lengths, frames
MIDEND_LAYERS = 3
# Per-frame features: the front-end's filters (2 x 204 + 3 x 51 = 561) and
# each mid-end layer's (3 x 64): 753.
FRONTEND_FEATURES = (len(TIMBRAL_WIDTHS) * TIMBRAL_FILTERS
                     + len(TEMPORAL_LENGTHS) * TEMPORAL_FILTERS)  # 561
FRAME_FEATURES = FRONTEND_FEATURES + MIDEND_LAYERS * MIDEND_FILTERS  # 753
POOLED_SIZE = 2 * FRAME_FEATURES  # 1506: max and mean over time
EMBEDDING_SIZE = POOLED_SIZE + BACKEND_UNITS  # 1706: max pool, mean pool, penultimate


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)


def _freq_max(x):
    """(batch, time, freq, channels) -> (batch, time, channels)."""
    return ops.max(x, axis=2)


def musicnn_backbone(n_mels: int = MUSICNN_N_MELS, frames: int | None = None) -> keras.Model:
    """The MSD musicnn network.

    Input (batch, frames, n_mels) of log10(10000 * mel + 1); outputs a dict:
    ``embedding`` (batch, 1706) = [max pool 753, mean pool 753, penultimate 200]
    and ``tags`` (batch, 50), the MSD tag probabilities.
    """
    x = keras.Input((frames, n_mels), name="logmel")
    expanded = layers.Reshape((-1, n_mels, 1))(x)
    normalized = _bn("batch_normalization")(expanded)

    # Front-end: timbral (7 x 38 and 7 x 67) and temporal (128/64/32 x 1)
    # filters, each max-pooled over the whole frequency axis.
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)))(normalized)
    front = []
    for i, width in enumerate(int(share * n_mels) for share in TIMBRAL_WIDTHS):
        conv = layers.Conv2D(TIMBRAL_FILTERS, (7, width), activation="relu",
                             name="conv2d" if i == 0 else f"conv2d_{i}")(padded)
        front.append(_freq_max(_bn(f"batch_normalization_{i + 1}")(conv)))
    for i, length in enumerate(TEMPORAL_LENGTHS):
        conv = layers.Conv2D(TEMPORAL_FILTERS, (length, 1), padding="same",
                             activation="relu", name=f"conv2d_{i + 2}")(normalized)
        front.append(_freq_max(_bn(f"batch_normalization_{i + 3}")(conv)))
    front = layers.Concatenate(axis=-1)(front)  # (batch, time, 561)

    # Mid-end: three 7-frame convolutions, the last two residual. TF1 wrote
    # them as 2-D convolutions spanning all channels: the same as Conv1D.
    mid = [front]
    h = None
    for i in range(MIDEND_LAYERS):
        source = front if i == 0 else h
        conv = layers.Conv1D(MIDEND_FILTERS, 7, activation="relu", name=f"conv2d_{i + 5}")(
            layers.ZeroPadding1D(3)(source))
        conv = _bn(f"batch_normalization_{i + 6}")(conv)
        h = conv if i == 0 else layers.Add()([conv, h])
        mid.append(h)
    mid = layers.Concatenate(axis=-1, name="midend")(mid)  # (batch, time, 753)

    # Back-end: max and mean over time, interleaved per feature as TF1's
    # concat-then-flatten of (753, 2) did, then the dense layers.
    max_pool = ops.max(mid, axis=1)
    mean_pool = ops.mean(mid, axis=1)
    flat = ops.reshape(ops.stack([max_pool, mean_pool], axis=-1), (-1, POOLED_SIZE))
    flat = _bn("batch_normalization_9")(flat)
    dense = layers.Dense(BACKEND_UNITS, activation="relu", name="dense")(flat)
    penultimate = _bn("batch_normalization_10")(dense)
    logits = layers.Dense(MSD_TAGS, name="dense_1")(penultimate)
    tags = layers.Activation("sigmoid", name="tags")(logits)
    embedding = layers.Concatenate(axis=-1, name="embedding")([max_pool, mean_pool, penultimate])
    return keras.Model(x, {"embedding": embedding, "tags": tags}, name="musicnn")


def genre_head(n_labels: int, input_size: int = EMBEDDING_SIZE,
               reference: tuple[int, int] | None = None, tags: bool = False) -> keras.Model:
    """Embedding (batch, input_size) -> probabilities (batch, n_labels): one
    softmax layer, a multinomial logistic regression whose weights already
    include the standardisation of its inputs (see head.fit_head).

    With ``reference`` = (dims, points) the head also outputs what the
    model's "unsure" needs (model.Trust): ``projection``, the embedding
    whitened into ``dims`` principal axes of the training tracks, and
    ``reference``, q . r - |r|^2 / 2 for each training track's point r. Both
    are linear, so their means over a track's chunks give the squared
    distance of the track's mean to its nearest training track:
    |q|^2 - 2 max(reference) (model.Trust.distance).

    With ``tags`` it also outputs ``tags``: musicnn's MSD_TAGS tag logits
    (its last layer on the embedding's penultimate part), standardised over
    the training tracks (calibration.fit_tag_profile); linear too."""
    x = keras.Input((input_size,), name="embedding")
    out = layers.Dense(n_labels, activation="softmax", name="genres")(x)
    if reference is None:
        return keras.Model(x, out, name="genre_head")
    dims, points = reference
    q = layers.Dense(dims, name="ood_projection")(x)
    m = layers.Dense(points, name="ood_reference")(q)
    outputs = {"genres": out, "projection": q, "reference": m}
    if tags:
        outputs["tags"] = layers.Dense(MSD_TAGS, name="msd_tags")(x)
    return keras.Model(x, outputs, name="genre_head")


# The front-end filters of the MSD checkpoint that are dead: 496 of its 561
# convolution filters have an L2 norm below this (398 are exactly zero).
# Such a filter's output, relu(bias) after batch normalisation, is the same
# constant at every frame and frequency.
DEAD_FILTER_NORM = 1e-6

# (convolution, its batch normalisation, fed the time-padded input?) in the
# order their frequency-pooled outputs are concatenated.
_FRONT_END = (("conv2d", "batch_normalization_1", True),
              ("conv2d_1", "batch_normalization_2", True),
              ("conv2d_2", "batch_normalization_3", False),
              ("conv2d_3", "batch_normalization_4", False),
              ("conv2d_4", "batch_normalization_5", False))


# Keras dtype policies of musicnn_frames' precisions (device.resolve_precision).
_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def _scale_shift(bn: layers.BatchNormalization):
    """Inference-mode batch normalisation as x * scale + shift (numpy)."""
    gamma, beta, mean, var = (w.numpy() for w in (bn.gamma, bn.beta, bn.moving_mean,
                                                   bn.moving_variance))
    scale = gamma / (var + bn.epsilon) ** 0.5
    return scale, beta - mean * scale


def musicnn_frames(backbone: keras.Model, dead_norm: float = DEAD_FILTER_NORM,
                   precision: str = "float32") -> keras.Model:
    """log-mel (batch, time, n_mels) -> musicnn's per-frame mid-end features
    (batch, time, 753), the backbone's own up to float rounding, computing
    only its live front-end filters.

    ``precision="bfloat16"`` runs the live front-end filters and the
    mid-end's first convolution, nearly all of the work, in bfloat16 (Keras'
    ``mixed_bfloat16``: float32 weights, bfloat16 arithmetic); on a CPU with
    native bfloat16 (AVX512-BF16, AMX) that is 1.4x faster, on others slower.
    Features then differ by about 1 % (see tests/test_network.py).

    A dead filter (norm <= dead_norm) gives a constant feature: it is filled
    in, and the mid-end's first convolution sees all the constants through
    one extra input channel of ones whose kernel is the constants' weighted
    sum, so its zero padding at the track's edges stays exact. On the MSD
    checkpoint this is 4x fewer operations per frame than the whole
    front-end (benchmarks/network.py measures it)."""
    policy = _POLICIES[precision]
    n_mels = backbone.input.shape[-1]
    x = keras.Input((None, n_mels), name="logmel")
    normalized = backbone.get_layer("batch_normalization")(layers.Reshape((-1, n_mels, 1))(x))
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)))(normalized)
    live_parts, live_idx, dead_idx, dead_val = [], [], [], []
    offset = 0
    for conv_name, bn_name, time_padded in _FRONT_END:
        conv = backbone.get_layer(conv_name)
        kernel, bias = conv.kernel.numpy(), conv.bias.numpy()
        scale, shift = _scale_shift(backbone.get_layer(bn_name))
        norms = np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), axis=0)
        live, dead = np.flatnonzero(norms > dead_norm), np.flatnonzero(norms <= dead_norm)
        live_idx.extend(offset + live)
        dead_idx.extend(offset + dead)
        dead_val.extend(np.maximum(bias[dead], 0.0) * scale[dead] + shift[dead])
        offset += kernel.shape[-1]
        if len(live):
            # max over frequency of scale * relu(z) + shift, computed on the
            # frequency-pooled (time, filters) array instead of the whole
            # (time, frequency, filters) one: for scale >= 0 it is
            # scale * relu(max z) + shift; for scale < 0, scale * relu(min z)
            # + shift, and min z = -max(-z), so such filters are negated.
            sign = np.where(scale[live] < 0, -1.0, 1.0).astype(np.float32)
            pruned = layers.Conv2D(len(live), kernel.shape[:2], padding=conv.padding,
                                   name=f"live_{conv_name}", dtype=policy)
            peak = ops.cast(_freq_max(pruned(padded if time_padded else normalized)), "float32")
            pruned.set_weights([kernel[..., live] * sign, bias[live] * sign])
            live_parts.append(ops.relu(peak * sign) * scale[live] + shift[live])
    live = live_parts[0] if len(live_parts) == 1 else layers.Concatenate()(live_parts)
    ones = ops.ones_like(live[:, :, :1])
    dead_val = np.asarray(dead_val, dtype=np.float32)
    # The front-end's 561 features in their original order.
    order = np.argsort(live_idx + dead_idx)
    front = ops.take(ops.concatenate([live, ones * dead_val], axis=-1), order, axis=-1)

    first = backbone.get_layer("conv2d_5")
    kernel, bias = first.kernel.numpy(), first.bias.numpy()  # (7, 561, 64)
    folded = (kernel[:, dead_idx, :] * dead_val[None, :, None]).sum(axis=1, keepdims=True)
    conv = layers.Conv1D(kernel.shape[-1], kernel.shape[0], activation="relu",
                         name="live_conv2d_5", dtype=policy)
    h = conv(layers.ZeroPadding1D(3)(ops.concatenate([live, ones], axis=-1)))
    h = ops.cast(h, "float32")
    conv.set_weights([np.concatenate([kernel[:, live_idx, :], folded], axis=1), bias])
    h = backbone.get_layer("batch_normalization_6")(h)
    mid = [front, h]
    for i in (1, 2):
        conv = backbone.get_layer(f"conv2d_{i + 5}")(layers.ZeroPadding1D(3)(h))
        h = layers.Add()([backbone.get_layer(f"batch_normalization_{i + 6}")(conv), h])
        mid.append(h)
    return keras.Model(x, layers.Concatenate(axis=-1)(mid), name="frames")


def musicnn_framewise(backbone: keras.Model, prune: bool = True, precision: str = "float32"
                      ) -> tuple[keras.Model, keras.Model]:
    """musicnn split where it pools over time, sharing its weights:

    - ``frames``: log-mel (batch, time, n_mels) -> per-frame features
      (batch, time, 753), for any length of time (the network is
      convolutional up to its temporal pooling); with ``prune``, the
      live-filter network of ``musicnn_frames`` at the given precision;
    - ``embed``: per-chunk pools (batch, 1506), max and mean interleaved per
      feature as musicnn flattens them -> the embedding (batch, 1706).

    Running ``frames`` once over a whole track and pooling each chunk's frames
    costs one network pass per frame however much the chunks overlap."""
    frames = (musicnn_frames(backbone, precision=precision) if prune else
              keras.Model(backbone.input, backbone.get_layer("midend").output, name="frames"))
    pooled = keras.Input((POOLED_SIZE,), name="pooled")
    flat = backbone.get_layer("batch_normalization_9")(pooled)
    dense = backbone.get_layer("dense")(flat)
    penultimate = backbone.get_layer("batch_normalization_10")(dense)
    pair = ops.reshape(pooled, (-1, FRAME_FEATURES, 2))
    embedding = ops.concatenate([pair[:, :, 0], pair[:, :, 1], penultimate], axis=-1)
    return frames, keras.Model(pooled, embedding, name="embed")


def musicnn_genre_model(backbone: keras.Model, head: keras.Model) -> keras.Model:
    """Chunks (batch, frames, mels) -> genre probabilities (batch, n_labels)."""
    x = keras.Input(backbone.input.shape[1:], name="logmel")
    out = head(backbone(x)["embedding"])
    return keras.Model(x, out["genres"] if isinstance(out, dict) else out, name="musicnn_genre")


def _conv_block(h, filters: int, pool):
    h = layers.Conv2D(filters, 3, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.Activation("relu")(h)
    return layers.MaxPooling2D(pool)(h)


def cnn(n_labels: int, frames: int, n_mels: int) -> keras.Model:
    """Four conv blocks on a log-mel chunk, global pooling, softmax."""
    x = keras.Input((frames, n_mels), name="logmel")
    h = layers.Reshape((frames, n_mels, 1))(x)
    h = layers.BatchNormalization()(h)
    for filters in (32, 64, 96, 128):
        h = _conv_block(h, filters, (2, 2))
    h = layers.Concatenate()([layers.GlobalMaxPooling2D()(h), layers.GlobalAveragePooling2D()(h)])
    h = layers.Dropout(0.5)(h)
    out = layers.Dense(n_labels, activation="softmax", name="genres")(h)
    return keras.Model(x, out, name="cnn")


def crnn(n_labels: int, frames: int, n_mels: int) -> keras.Model:
    """Conv blocks pooling frequency away, a bidirectional LSTM over time and
    attention pooling, softmax."""
    x = keras.Input((frames, n_mels), name="logmel")
    h = layers.Reshape((frames, n_mels, 1))(x)
    h = layers.BatchNormalization()(h)
    for filters, pool in ((32, (2, 4)), (64, (2, 4)), (96, (2, 3))):
        h = _conv_block(h, filters, pool)
    h = layers.Reshape((h.shape[1], h.shape[2] * h.shape[3]))(h)
    h = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(h)
    scores = layers.Softmax(axis=1)(layers.Dense(1)(h))
    h = ops.sum(h * scores, axis=1)
    h = layers.Dropout(0.5)(h)
    out = layers.Dense(n_labels, activation="softmax", name="genres")(h)
    return keras.Model(x, out, name="crnn")


def build_network(card: ModelCard):
    """The Keras network a model card describes, weights not loaded.
    Input (batch, chunk_frames, n_mels) -> probabilities (batch, n_labels)."""
    fe, n, arch = card.frontend, len(card.labels), card.arch
    if arch == "musicnn":
        backbone = musicnn_backbone(fe.n_mels, None)
        trust = card.trust
        reference = (trust.dims, trust.points) if trust.dims else None
        return musicnn_genre_model(backbone, genre_head(n, reference=reference,
                                                        tags=trust.tag_centre is not None))
    if arch == "cnn":
        return cnn(n, fe.chunk_frames, fe.n_mels)
    if arch == "crnn":
        return crnn(n, fe.chunk_frames, fe.n_mels)
    raise ModelError(f"unknown architecture '{arch}'")
