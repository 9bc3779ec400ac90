"""Load a genre model with its metadata, classify chunks, aggregate per track.

A model is a folder holding ``metadata.json`` (architecture, labels, the
front-end it was trained with, head settings, data summary, scores) and
``model.weights.h5``. The pipeline reads the feature parameters from the
metadata, so models with different front-ends work unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .constants import BATCH_CHUNKS, DEFAULT_MODEL_DIR
from .errors import ModelError
from .features import FrontEnd

METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("auto", "float32", "bfloat16")


# TensorFlow's C++ start-up chatter: informational lines on oneDNN, CPU
# instructions and CUDA probes that say nothing is wrong.
_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations|cudart_stub|"
    r"cpu_feature_guard|To enable the following instructions|rebuild TensorFlow with|"
    r"cuda_platform\.cc|failed call to cuInit|Unable to register cu|computation placer|"
    r"TF-TRT Warning|cuda_executor|gpu_device\.cc")


@contextlib.contextmanager
def quiet_native_stderr(verbose: bool = False):
    """Filter TensorFlow's native start-up lines out of stderr, keeping any
    other line. Setting TF_CPP_MIN_LOG_LEVEL inside the process comes too late
    for them, and TF_ENABLE_ONEDNN_OPTS=0 would cost about 40 % of CNN speed."""
    if verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not _NOISE.search(line):
                    sys.stderr.write(line)


_IMPORT_LOCK = threading.Lock()


def import_tensorflow(verbose: bool = False):
    """Import TensorFlow (and probe its devices) with the start-up chatter
    filtered out unless verbose. Thread-safe: the scan imports it in a
    thread while the pool starts, and two overlapping redirections of stderr
    would leave it pointing at the first one's temporary file."""
    with _IMPORT_LOCK, quiet_native_stderr(verbose):
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
        if not verbose:
            tf.get_logger().setLevel("ERROR")
    return tf


def read_metadata(directory: str | os.PathLike) -> dict:
    """The metadata of a model folder; ModelError when missing or unreadable."""
    directory = Path(directory)
    try:
        with open(directory / METADATA, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError as e:
        raise ModelError(f"not a model folder (no {METADATA})", directory) from e
    except (OSError, ValueError) as e:
        raise ModelError(f"unreadable {METADATA}: {e}", directory) from e
    for key in ("arch", "labels", "frontend"):
        if key not in meta:
            raise ModelError(f"{METADATA} lacks '{key}'", directory)
    return meta


def model_id(directory: str | os.PathLike) -> str:
    """A short hash of the model's files: the cache keys results by it."""
    h = hashlib.sha256()
    for name in (METADATA, WEIGHTS):
        try:
            h.update((Path(directory) / name).read_bytes())
        except OSError as e:
            raise ModelError(f"cannot read {name}: {e.strerror}", directory) from e
    return h.hexdigest()[:16]


def build_network(meta: dict):
    """The Keras network a metadata dict describes, weights not loaded.
    Input (batch, chunk_frames, n_mels) -> probabilities (batch, n_labels)."""
    from . import network

    fe = FrontEnd.from_dict(meta["frontend"])
    n = len(meta["labels"])
    arch = meta["arch"]
    if arch == "musicnn":
        backbone = network.musicnn_backbone(fe.n_mels, None)
        trust = meta.get("unsure") or {}
        reference = (trust["dims"], trust["points"]) if trust.get("dims") else None
        return network.musicnn_genre_model(backbone, network.genre_head(n, reference=reference))
    if arch == "cnn":
        return network.cnn(n, fe.chunk_frames, fe.n_mels)
    if arch == "crnn":
        return network.crnn(n, fe.chunk_frames, fe.n_mels)
    raise ModelError(f"unknown architecture '{arch}'")


# Frame-wise musicnn: frames per network call, and the context each call
# gets beyond them on both sides. musicnn's widest view is 64 frames of its
# 128-frame temporal filters plus 3 x 3 frames of its mid-end. Longer calls
# cost less per frame (10.9 vs 11.5 ms per 1,000 frames at 4,000 vs 2,000 on
# a 2-core CPU) and re-compute less context.
FRAMES_PER_CALL = 4000  # frames = 64 s; memory per call ~200 MB
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


# A track whose log-mel (log10(10000 mel + 1)) never exceeds this is silent:
# dither at -80 dBFS reaches 0.002, a 440 Hz sine at -60 dBFS 0.77.
SILENT_LOGMEL = 0.05


@dataclass(frozen=True)
class Trust:
    """When a model's verdict is "unsure", from metadata.json's "unsure"
    (set by train.calibrate from cross-validated predictions):

    - its top confidence is below ``min_confidence``;
    - its distance to the nearest training track exceeds ``max_distance``:
      the track's mean chunk embedding, whitened along the training tracks'
      ``dims`` principal axes (the head's ``projection`` output), against
      every training track's point (``reference``); music unlike anything
      the model was trained on (speech, noise, tones) lies far away;
    - it is silent (SILENT_LOGMEL).
    Everything comes from what the scan computes anyway: a few extra
    outputs of the head per chunk, a few numbers per track."""

    min_confidence: float = 0.0
    max_distance: float | None = None
    dims: int = 0
    points: int = 0

    @classmethod
    def from_meta(cls, meta: dict) -> "Trust":
        u = meta.get("unsure") or {}
        return cls(float(u.get("min_confidence", 0.0)), u.get("max_distance"),
                   int(u.get("dims", 0)), int(u.get("points", 0)))

    def distance(self, projection: np.ndarray, reference: np.ndarray) -> float:
        """Distance to the nearest training track from the means over a
        track's chunks of the head's two reference outputs."""
        q, m = np.mean(projection, axis=0), np.mean(reference, axis=0)
        return float(np.sqrt(max(float(q @ q) - 2 * float(m.max()), 0.0)))

    def unsure(self, confidence: float, distance: float | None, silent: bool = False) -> bool:
        far = (self.max_distance is not None and distance is not None
               and distance > self.max_distance)
        return bool(silent or far or confidence < self.min_confidence)


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
        self.meta = read_metadata(self.directory)
        self.labels: list[str] = list(self.meta["labels"])
        self.frontend = FrontEnd.from_dict(self.meta["frontend"])
        self.aggregation = self.meta.get("aggregation", "mean")
        self.trust = Trust.from_meta(self.meta)
        self.id = model_id(self.directory)
        self._tf = import_tensorflow(verbose)
        self.device = resolve_device(self._tf, device)
        self.precision = resolve_precision(self.device, precision)
        with self._tf.device(self.device):
            self.network = build_network(self.meta)
            try:
                self.network.load_weights(self.directory / WEIGHTS)
            except Exception as e:  # noqa: BLE001 - h5py/Keras raise many kinds
                raise ModelError(f"cannot load {WEIGHTS}: {e}", self.directory) from e
        self._call = self._tf.function(lambda x: self.network(x, training=False),
                                       reduce_retracing=True)
        self._frames = self._heads = None
        if self.meta["arch"] == "musicnn":
            from .network import musicnn_framewise

            backbone = self.network.get_layer("musicnn")
            frames, embed = musicnn_framewise(backbone, precision=self.precision)
            head = self.network.get_layer("genre_head")
            self._frames = self._tf.function(lambda x: frames(x, training=False),
                                             reduce_retracing=True)
            self._heads = self._tf.function(lambda x: head(embed(x, training=False),
                                                           training=False),
                                            reduce_retracing=True)

    def _pooled(self, pooled: np.ndarray) -> dict[str, np.ndarray]:
        """Pooled chunks -> the head's outputs (genres, and for a model with
        a Trust reference, projection and reference) as numpy arrays."""
        out = self._heads(pooled)
        return ({k: v.numpy() for k, v in out.items()} if isinstance(out, dict)
                else {"genres": out.numpy()})

    def aggregate(self, probs: np.ndarray) -> Prediction:
        """One track's chunk probabilities -> its prediction, the model's way
        (unsure only by confidence: predict_tracks also sees the embedding)."""
        pred = aggregate(probs, self.labels, self.aggregation)
        pred.unsure = self.trust.unsure(pred.genres[0][1], None)
        return pred

    def predict_tracks(self, tracks: list, batch: int = BATCH_CHUNKS) -> list[Prediction]:
        """One Prediction per track (features.Chunked), unsure set by the
        model's Trust: confidence, distance to the training tracks, silence."""
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
            if "projection" in part:
                pred.distance = self.trust.distance(part["projection"], part["reference"])
            silent = float(np.max(t.spec, initial=0.0)) < SILENT_LOGMEL
            pred.unsure = self.trust.unsure(pred.genres[0][1], pred.distance, silent)
            preds.append(pred)
        return preds

    def _outputs(self, tracks: list, batch: int) -> dict[str, np.ndarray]:
        with self._tf.device(self.device):
            pooled = np.concatenate([pool_chunks(self._frames, t) for t in tracks])
            parts = [self._pooled(pooled[i: i + batch * 4])
                     for i in range(0, len(pooled), batch * 4)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def predict_chunked(self, tracks: list, batch: int = BATCH_CHUNKS) -> np.ndarray:
        """Chunk probabilities of several tracks (features.Chunked), track
        after track: (total chunks, n_labels). musicnn runs frame-wise (see
        pool_chunks); other networks get their chunks cut batch by batch."""
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


def resolve_device(tf, device: str) -> str:
    """'auto' -> the first GPU TensorFlow sees, else the CPU."""
    if device not in DEVICES:
        raise ModelError(f"unknown device '{device}' (choose from {', '.join(DEVICES)})")
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise ModelError("--device gpu: TensorFlow sees no GPU (is tensorflow[and-cuda] installed?)")
    if device in ("gpu", "auto") and gpus:
        return "/GPU:0"
    return "/CPU:0"


def native_bfloat16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bfloat16 natively (x86 AVX512-BF16 or AMX),
    from /proc/cpuinfo's flags; False where that cannot be read (other
    systems), since emulated bfloat16 is slower than float32."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def precision_on(device: str, precision: str, verbose: bool = False) -> str:
    """The precision a GenreModel built with this ``device`` ('auto', 'cpu',
    'gpu') and ``precision`` runs at (imports TensorFlow to see the GPUs)."""
    return resolve_precision(resolve_device(import_tensorflow(verbose), device), precision)


def resolve_precision(device: str, precision: str, cpuinfo: str | None = None) -> str:
    """'auto' -> bfloat16 on a CPU that computes it natively, else float32
    (GPUs included: their mixed precision is not measured here). Without
    oneDNN (TF_ENABLE_ONEDNN_OPTS=0) bfloat16 is slower than float32
    (benchmarks/network.py: 322 vs 295 ms), so auto keeps float32 there."""
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision '{precision}' (choose from {', '.join(PRECISIONS)})")
    if precision != "auto":
        return precision
    on_cpu = not device.upper().startswith("/GPU")
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip() != "0"
    return "bfloat16" if on_cpu and onednn and native_bfloat16(cpuinfo) else "float32"
