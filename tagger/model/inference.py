"""Load a genre model, classify chunks, aggregate per track.

A model is a folder (card: metadata.json and model.weights.h5). The
pipeline reads the feature parameters from its card, so models with
different front-ends work unchanged; its Trust (trust.py) says when a
verdict is "unsure".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..constants import BATCH_CHUNKS, DEFAULT_MODEL_DIR, EMBEDDING_DTYPE
from .device import resolve_device, resolve_precision
from ..errors import ModelError
from .card import WEIGHTS, model_id, read_card
from .tfruntime import import_tensorflow, inference_function


@dataclass
class Prediction:
    """Genres of one track, best first, with confidences in [0, 1].
    ``unsure``: the evidence is too weak, or the audio unlike the music the
    model was trained on, to trust the top genre (see Trust)."""

    genres: list[tuple[str, float]]
    distribution: dict[str, float]
    chunks: int
    unsure: bool = False
    distance: float | None = None  # to the nearest training track (Trust)
    variation: float | None = None  # dB, how much its loudness changes (band_variation)
    # The mean of its chunk embeddings (1706,) in EMBEDDING_DTYPE (musicnn models): what
    # training a head needs, kept in the cache so that training decodes nothing.
    embedding: np.ndarray | None = None


# A track whose log-mel (log10(10000 mel + 1)) never exceeds this is silent:
# dither at -80 dBFS reaches 0.002, a 440 Hz sine at -60 dBFS 0.77.
SILENT_LOGMEL = 0.05


def is_silent(spec: np.ndarray) -> bool:
    """Whether a track's log-mel never exceeds SILENT_LOGMEL."""
    return float(np.max(spec, initial=0.0)) < SILENT_LOGMEL

# Steady sound (noise, a hum) keeps its loudness in every band; music does
# not. band_variation compares the loudness of blocks this long ...
STEADY_BLOCK_SECONDS = 1.0
# ... in the louder bands: a band this far below the loudest counts at that
# level, so that near-empty bands (between a hum's harmonics) count as steady ...
STEADY_FLOOR_DB = 40.0
# ... and reports the variation this share of the bands stays under.
STEADY_QUANTILE = 0.75
# A track varying by less than this is steady (Trust.min_variation, which
# train writes into a model's metadata): generated noise and hum vary by at
# most 0.6 dB, the least varying dev clip by 1.9 (band_variation).
STEADY_DB = 1.0


def band_variation(spec: np.ndarray, frames_per_second: float) -> float:
    """How much a track's loudness changes, in dB: per mel band the standard
    deviation of its level over STEADY_BLOCK_SECONDS blocks, and of those the
    STEADY_QUANTILE over the bands. ``spec``: the log-mel (frames, n_mels),
    log10(10000 mel + 1), whose block means turned back into power
    (10^s - 1) are the levels. A gain changes every level alike, so the
    result does not depend on how loud the track is. Generated brown, pink
    and white noise and 50 / 60 Hz hum vary by 0.0 to 0.6 dB, the 552 clips
    of gtzan-dev and emotify-dev by 1.8 dB or more (also 20 and 40 dB
    quieter). inf for a track shorter than three blocks: too short to tell."""
    block = max(1, int(round(STEADY_BLOCK_SECONDS * frames_per_second)))
    n = len(spec) // block
    if n < 3:
        return float("inf")
    level = np.power(10.0, spec[: n * block].reshape(n, block, -1).mean(axis=1)) - 1.0
    floor = float(level.mean(axis=0).max()) * 10 ** (-STEADY_FLOOR_DB / 10) + 1e-12
    db = 10 * np.log10(level + floor)
    return float(np.quantile(db.std(axis=0), STEADY_QUANTILE))


AGGREGATIONS = ("geometric", "mean")
LOG_FLOOR = 1e-7  # probabilities below this count as this in the geometric mean


def aggregate(probs: np.ndarray, labels: list[str], method: str = "geometric") -> Prediction:
    """Chunk probabilities (n_chunks, n_labels) -> one ranked prediction.

    "geometric": the normalised geometric mean over chunks (the mean of log
    probabilities), which rewards genres every chunk agrees on and, measured
    by 4-fold CV on gtzan-dev, is both more accurate and better calibrated
    than "mean", the arithmetic mean. Either way the result sums to 1."""
    p = np.asarray(probs, dtype=np.float64)
    if method == "geometric":
        logp = np.log(np.maximum(p, LOG_FLOOR)).mean(axis=0)
        mean = np.exp(logp - logp.max())
        mean /= mean.sum()
    elif method == "mean":
        mean = p.mean(axis=0)
    else:
        raise ModelError(f"unknown aggregation '{method}' (choose from {', '.join(AGGREGATIONS)})")
    order = np.argsort(-mean, kind="stable")
    genres = [(labels[i], float(mean[i])) for i in order]
    return Prediction(genres, {labels[i]: round(float(mean[i]), 6) for i in range(len(labels))},
                      int(len(p)))


class GenreModel:
    """A loaded model: ``predict(chunks)`` on the chosen device."""

    def __init__(self, directory: str | os.PathLike | None = None, device: str = "auto",
                 verbose: bool = False, precision: str = "float32"):
        self.directory = Path(directory or DEFAULT_MODEL_DIR)
        self.card = read_card(self.directory)
        self.labels: list[str] = list(self.card.labels)
        self.frontend = self.card.frontend
        self.aggregation = self.card.aggregation
        self.trust = self.card.trust
        self.id = model_id(self.directory)
        self._tf = import_tensorflow(verbose)
        self.device = resolve_device(self._tf, device)
        self.precision = resolve_precision(self.device, precision)
        with self._tf.device(self.device):
            from .network import build_network

            self.network = build_network(self.card)
            try:
                self.network.load_weights(self.directory / WEIGHTS)
            except Exception as e:  # noqa: BLE001 - h5py/Keras raise many kinds
                raise ModelError(f"cannot load {WEIGHTS}: {e}", self.directory) from e
        self._call = inference_function(self._tf, self.network)
        self._frames = self._heads = None
        if self.card.arch == "musicnn":
            from . import framewise

            self._frames, self._heads = framewise.functions(
                self._tf, self.network.get_layer("musicnn"), self.precision,
                head=self.network.get_layer("genre_head"))

    def _pooled(self, pooled: np.ndarray) -> dict[str, np.ndarray]:
        """Pooled chunks -> the head's outputs (genres, and for a model with
        a Trust reference, projection and reference) as numpy arrays."""
        out = self._heads(pooled)
        return ({k: v.numpy() for k, v in out.items()} if isinstance(out, dict)
                else {"genres": out.numpy()})

    def predict_tracks(self, tracks: list, batch: int = BATCH_CHUNKS) -> list[Prediction]:
        """One Prediction per track (features.Chunked), unsure set by the
        model's Trust: confidence, distance to the training tracks, a steady
        sound, silence."""
        if self._frames is None:
            probs = self.predict_chunked(tracks, batch)
            outs = {"genres": probs}
        else:
            outs = self._outputs(tracks, batch)
        preds, start = [], 0
        for t in tracks:
            part = {k: v[start: start + len(t)] for k, v in outs.items()}
            start += len(t)
            pred = aggregate(part["genres"], self.labels, self.aggregation)
            genre = self.labels.index(pred.genres[0][0])
            evidence = self.trust.evidence(part, genre)
            pred.distance = evidence.get("distance")
            if "embedding" in part:
                pred.embedding = part["embedding"].mean(axis=0).astype(EMBEDDING_DTYPE)
            silent = is_silent(t.spec)
            if self.trust.min_variation is not None:
                pred.variation = band_variation(t.spec, self.frontend.frames_per_second)
            pred.unsure = self.trust.unsure(pred.genres[0][1], pred.distance, silent,
                                            pred.variation, genre,
                                            evidence.get("genre_distance"),
                                            evidence.get("tag_distance"))
            preds.append(pred)
        return preds

    def _outputs(self, tracks: list, batch: int) -> dict[str, np.ndarray]:
        from . import framewise

        with self._tf.device(self.device):
            pooled = np.concatenate([framewise.pool_chunks(self._frames, t) for t in tracks])
            parts = [self._pooled(pooled[i: i + batch * 4])
                     for i in range(0, len(pooled), batch * 4)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def predict_chunked(self, tracks: list, batch: int = BATCH_CHUNKS) -> np.ndarray:
        """Chunk probabilities of several tracks (features.Chunked), track
        after track: (total chunks, n_labels). musicnn runs frame-wise (see
        framewise.pool_chunks); other networks get their chunks cut batch by batch."""
        if self._frames is not None:
            return self._outputs(tracks, batch)["genres"]
        pairs = [(t, s) for t in tracks for s in t.starts]
        out = [self.predict(np.stack([t.spec[s: s + t.frames] for t, s in pairs[i: i + batch]]),
                            batch)
               for i in range(0, len(pairs), batch)]
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), np.float32)

    def predict(self, chunks: np.ndarray, batch: int = BATCH_CHUNKS) -> np.ndarray:
        """(n, chunk_frames, n_mels) float32 -> (n, n_labels) probabilities."""
        out = []
        with self._tf.device(self.device):
            for i in range(0, len(chunks), batch):
                part = chunks[i: i + batch]
                if len(part) < batch and len(chunks) > batch:
                    # Pad the last batch to the usual shape: one traced graph.
                    pad = np.zeros((batch - len(part),) + part.shape[1:], np.float32)
                    out.append(self._call(np.concatenate([part, pad])).numpy()[: len(part)])
                else:
                    out.append(self._call(part).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), np.float32)


