"""Frame-wise musicnn: a track's per-frame features computed once each and
pooled per chunk, however much the chunks overlap (see network.musicnn_framewise)."""

from __future__ import annotations

import numpy as np

from .tfruntime import inference_function


def functions(tf, backbone, precision: str = "float32", head=None):
    """(frames_fn, embed_fn) of a musicnn backbone as traced inference
    functions: log-mel (1, time, n_mels) -> features (1, time, 753), and
    pooled chunks (n, 1506) -> embeddings (n, 1706), or with ``head`` the
    head's outputs on them as a dict, with the embeddings themselves under
    "embedding" (a scan keeps their track mean for training, at no extra
    network cost)."""
    from .network import musicnn_framewise

    frames, embed = musicnn_framewise(backbone, precision=precision)
    return (inference_function(tf, frames),
            inference_function(tf, *((embed, _with_input(head)) if head is not None
                                     else (embed,))))


def _with_input(head):
    """``head`` as a layer whose outputs (a dict, or "genres") also hold its
    input, the chunk embeddings, as "embedding"."""
    def call(x, training=False):
        out = head(x, training=training)
        return {**(out if isinstance(out, dict) else {"genres": out}), "embedding": x}
    return call


# Frame-wise musicnn: new frames per network call, and the context each call
# gets beyond them on both sides.
# FRAMES_PER_CALL is tuned, not derived: longer calls cost less per frame and
# re-compute less context: 10.9 vs 11.5 ms per 1,000 frames at 4,000 vs 2,000
# frames a call, float32 on the 2-core CPU (figures of commit 62dd282; to
# measure again: `python benchmarks/network.py --frames 4160`, then
# `--frames 2160`, and divide the ms per call by the 4,000 or 2,000 new frames).
FRAMES_PER_CALL = 4000  # frames (x 16 ms hop = 64 s of audio); ~200 MB per call
# A frame's features depend on 64 frames either side (half of musicnn's
# 128-frame temporal filters) plus 3 x 3 (its three 7-frame mid-end layers):
# 73 frames; the context is that with 7 to spare.
CONTEXT = 80  # frames


def pool_chunks(frames_fn, track) -> np.ndarray:
    """musicnn's temporal pooling of every chunk of a track from frame-wise
    features: (n_chunks, 1506), max and mean interleaved per feature.

    ``frames_fn`` maps log-mel (1, time, n_mels) to features (1, time, 753).
    The track's frames are computed once each, in calls of at most
    FRAMES_PER_CALL new frames with CONTEXT frames of real audio around them;
    the frames a call shares with the next group of chunks (they overlap) are
    kept, not computed again. Overlapping chunks cost no extra network
    passes and memory stays flat however long the track."""
    from numpy.lib.stride_tricks import sliding_window_view

    starts, f, n = track.starts, track.frames, len(track.spec)
    out = []
    kept, kept_from, done = None, 0, 0  # features of frames kept_from .. done
    i = 0
    while i < len(starts):
        g0 = starts[i]
        new_from = max(g0, done)
        j = i + 1
        while j < len(starts) and starts[j] + f - new_from <= FRAMES_PER_CALL:
            j += 1
        g1 = starts[j - 1] + f
        parts = [kept[g0 - kept_from:]] if new_from > g0 else []
        if new_from < g1:
            a, b = max(0, new_from - CONTEXT), min(n, g1 + CONTEXT)
            parts.append(np.asarray(frames_fn(track.spec[None, a:b]))[0, new_from - a: g1 - a])
        feats = np.concatenate(parts) if len(parts) > 1 else parts[0]
        windows = sliding_window_view(feats, f, axis=0)[[s - g0 for s in starts[i:j]]]
        out.append(np.stack([windows.max(axis=-1), windows.mean(axis=-1)], axis=-1)
                   .reshape(j - i, -1))
        kept, kept_from, done = feats, g0, g1
        i = j
    return np.concatenate(out).astype(np.float32)
