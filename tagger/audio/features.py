"""Log-mel spectrograms and overlapping chunks. Pure numpy/librosa, no TensorFlow."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np

from ..constants import (MUSICNN_CHUNK_FRAMES, MUSICNN_CHUNK_HOP_FRAMES, MUSICNN_HOP,
                        MUSICNN_N_FFT, MUSICNN_N_MELS, MUSICNN_SAMPLE_RATE)


@dataclass(frozen=True)
class FrontEnd:
    """The feature parameters a model was trained with (stored in its metadata)."""

    sample_rate: int  # Hz
    n_fft: int  # samples
    hop_length: int  # samples
    n_mels: int
    chunk_frames: int  # frames per chunk
    chunk_hop_frames: int  # frames between chunk starts

    @property
    def chunk_seconds(self) -> float:
        return self.chunk_frames * self.hop_length / self.sample_rate

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length

    @property
    def chunk_samples(self) -> int:
        """Samples whose STFT frames fill exactly one chunk."""
        return (self.chunk_frames - 1) * self.hop_length

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FrontEnd":
        return cls(**{k: int(d[k]) for k in cls.__dataclass_fields__})


# musicnn's front-end and chunks (constants.py): what the shipped model uses.
MUSICNN_FRONTEND = FrontEnd(MUSICNN_SAMPLE_RATE, MUSICNN_N_FFT, MUSICNN_HOP, MUSICNN_N_MELS,
                            MUSICNN_CHUNK_FRAMES, MUSICNN_CHUNK_HOP_FRAMES)


def log_mel(y: np.ndarray, fe: FrontEnd, center: bool = True) -> np.ndarray:
    """Mono samples (n,) at fe.sample_rate -> log10(10000 * mel power + 1),
    float32 of shape (frames, n_mels). Computed in float32 throughout (musicnn
    cast to float16 before the log and overflowed). ``center``: frames
    centred on every hop, with n_fft / 2 zeros of padding at both ends
    (1 + n // hop frames); else frames start at every hop inside y."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(y, dtype=np.float32), sr=fe.sample_rate, n_fft=fe.n_fft,
        hop_length=fe.hop_length, n_mels=fe.n_mels, center=center, pad_mode="constant")
    return np.log10(10000.0 * mel.T + 1.0, dtype=np.float32)


def streamed_log_mel(segments: Iterable[np.ndarray], fe: FrontEnd) -> tuple[np.ndarray, float]:
    """The log-mel of a track given as consecutive segments of mono samples
    at fe.sample_rate (e.g. a decoder's stream): the same frames as one
    whole-track ``log_mel`` (frames centred on every hop, n_fft / 2 zeros of
    padding at both ends) while memory holds one segment of samples.
    Returns (spectrogram (frames, n_mels), seconds)."""
    hop, half = fe.hop_length, fe.n_fft // 2
    buf = np.zeros(half, np.float32)  # padded samples from the next frame's start on
    specs, samples = [], 0
    for y in segments:
        samples += len(y)
        buf = np.concatenate([buf, y])
        n = (len(buf) - fe.n_fft) // hop + 1  # frames buf holds whole
        if n > 0:
            specs.append(log_mel(buf[: (n - 1) * hop + fe.n_fft], fe, center=False))
            buf = buf[n * hop:]
    buf = np.concatenate([buf, np.zeros(half, np.float32)])
    specs.append(log_mel(buf, fe, center=False))
    return np.concatenate(specs), samples / fe.sample_rate


def chunk_starts(n_frames: int, fe: FrontEnd, hop: int | None = None) -> list[int]:
    """Start frames of the chunks covering n_frames: every ``hop`` frames
    (default fe.chunk_hop_frames), plus one chunk ending at the last frame
    when the hop leaves a tail."""
    if n_frames <= fe.chunk_frames:
        return [0]
    last = n_frames - fe.chunk_frames
    starts = list(range(0, last + 1, hop or fe.chunk_hop_frames))
    if starts[-1] != last:
        starts.append(last)
    return starts


@dataclass
class Chunked:
    """A spectrogram and where its chunks start: chunks cut on demand, so a
    long track's overlapping chunks never all sit in memory at once."""

    spec: np.ndarray  # (frames, n_mels), at least one chunk long
    starts: list[int]
    frames: int  # per chunk

    def __len__(self) -> int:
        return len(self.starts)

    def take(self, i: int = 0, j: int | None = None) -> np.ndarray:
        """Chunks i..j as an array (j - i, frames, n_mels), float32."""
        return np.stack([self.spec[s: s + self.frames] for s in self.starts[i:j]])


def chunked(spec: np.ndarray, fe: FrontEnd, hop: int | None = None) -> Chunked:
    """Chunk a (frames, n_mels) spectrogram every ``hop`` frames (default
    fe.chunk_hop_frames). A spectrogram shorter than one chunk is repeated
    to fill it (musicnn's "repeat-pad"), so a short track gives one chunk
    instead of none."""
    n = spec.shape[0]
    if n == 0:
        raise ValueError("empty spectrogram")
    if n < fe.chunk_frames:
        spec = np.tile(spec, (math.ceil(fe.chunk_frames / n), 1))[: fe.chunk_frames]
    return Chunked(spec, chunk_starts(spec.shape[0], fe, hop), fe.chunk_frames)


def fast_windows(duration: float, n: int, window: float) -> tuple[float, ...]:
    """Start times (s) of n windows of ``window`` s spread evenly over the
    middle 80 % of a track of ``duration`` s (intros and outros say least
    about genre); one window at 0 when the track is shorter than that."""
    if duration <= window * n / 0.8:
        span = max(0.0, duration - window)
        return tuple(span * (i + 0.5) / n for i in range(n)) if span > 0 else (0.0,)
    return tuple(duration * (0.1 + 0.8 * (i + 0.5) / n) - window / 2 for i in range(n))
