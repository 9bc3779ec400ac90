"""One file in a decode worker: decode it, compute its log-mel, read its
genre and album tags -> Decoded (or the reason it failed). Long tracks are
decoded a segment at a time; --fast decodes only a few windows by seeking.
No TensorFlow here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..constants import MIN_CHUNK_SHARE
from .decode import load_audio, seconds_text, stream_audio, truncation
from ..errors import TaggerError
from .features import FrontEnd, fast_windows, log_mel, streamed_log_mel
from ..tags import FileTags, read_tags

FAST_MARGIN = 0.1  # s decoded past each --fast window
# Tracks longer than this are decoded in one pass a segment at a time, so a
# worker holds at most one segment of samples (60 s of 48 kHz stereo float32
# = 23 MB) whatever the track's length.
LONG_TRACK = 120.0  # s
SEGMENT = 60.0  # s


@dataclass
class Decoded:
    """A decoded track: its log-mel (frames, n_mels) float32 and duration in s;
    or, when it failed, ``error`` with the reason; or, for a track too short
    for the model to judge, its duration and tags without a log-mel, and
    ``unsure_reason`` saying so (a result, never written)."""

    path: str
    spec: np.ndarray | None = None
    duration: float | None = None
    error: str | None = None
    current_genres: list[str] = field(default_factory=list)
    album: str | None = None
    unsure_reason: str | None = None

    @property
    def no_spec_reason(self) -> str | None:
        """Why there is no log-mel: the error, or why it is not judged."""
        return self.error or self.unsure_reason


def analyse(path: str, fe: FrontEnd, fast: int | None = None) -> Decoded:
    """Decode ``path``, compute its log-mel and read its genre and album tags.

    A track longer than LONG_TRACK seconds is decoded in one pass a segment
    at a time, so memory holds its spectrogram but never all of its samples. With
    ``fast`` = n, only n chunk-long windows spread over the track are
    decoded, by seeking, so the rest is never decoded; their spectrograms are
    joined chunk after chunk (the pipeline then cuts them without overlap).
    A file that decodes to much less than its header declares (truncated) is
    an error; one shorter than MIN_CHUNK_SHARE of a chunk (a jingle, a sound
    effect) comes back without a log-mel, "too short to judge". mutagen parses
    the file once (``tags.read_tags``: header length, genres, album)."""
    try:
        tags = read_tags(path)
        total, declared = tags.length, tags.length_declared
        shortest = MIN_CHUNK_SHARE * fe.chunk_seconds
        if fast and total is not None and total >= shortest:
            spec = _windows(path, fe, fast_windows(total, fast, fe.chunk_seconds), total)
            if spec is not None:
                return _decoded(path, spec, total, tags)
            # A window ran out of audio before the header's length: decode
            # it all, to know how much it holds.
        if total is not None and total > LONG_TRACK:
            spec, seconds = streamed_log_mel(stream_audio(path, fe.sample_rate, SEGMENT), fe)
        else:
            y = load_audio(path, fe.sample_rate, declared=total if declared else None)
            spec, seconds = log_mel(y, fe), len(y) / fe.sample_rate
        reason = truncation(seconds, total if declared else None)
        if reason is not None:
            return Decoded(path, error=reason)
        if seconds < shortest:
            return Decoded(path, duration=seconds, current_genres=tags.genres, album=tags.album,
                           unsure_reason=f"too short to judge: {seconds_text(seconds)}")
        return _decoded(path, spec, seconds, tags)
    except TaggerError as e:
        return Decoded(path, error=e.reason)
    except MemoryError:
        return Decoded(path, error="out of memory while decoding")
    except Exception as e:  # noqa: BLE001 - a decoder bug must not stop the batch
        return Decoded(path, error=f"unexpected {type(e).__name__}: {e}")


def _decoded(path: str, spec: np.ndarray, seconds: float, tags: FileTags) -> Decoded:
    return Decoded(path, spec, seconds, current_genres=tags.genres, album=tags.album)


def _pieces(path: str, fe: FrontEnd, starts, duration: float) -> Iterator[np.ndarray]:
    """Samples of ``duration`` s from each start time (s), by seeking. A
    piece that fails ends the series: the file holds less audio than its
    headers promise (or none), and the caller decodes it whole to see."""
    for start in starts:
        try:
            yield load_audio(path, fe.sample_rate, offset=start, duration=duration)
        except TaggerError:
            return


def _windows(path: str, fe: FrontEnd, starts: tuple[float, ...],
             total: float) -> np.ndarray | None:
    """The windows' spectrograms joined; None when a window holds less audio
    than the header's length ``total`` (s) promises there: the file is
    shorter than it says (truncated, or a wrong header)."""
    # A little more than one chunk: some codecs (AAC) start a seek a few
    # ms late, and the chunk is cut to length here.
    length = fe.chunk_samples / fe.sample_rate + FAST_MARGIN
    specs, decoded = [], 0
    for start, y in zip(starts, _pieces(path, fe, starts, length)):
        decoded += 1
        promised = min(fe.chunk_seconds, total - start) - FAST_MARGIN  # s
        if len(y) / fe.sample_rate < promised:
            return None
        spec = log_mel(y, fe)
        if len(spec) >= fe.chunk_frames or not specs:
            specs.append(spec[: fe.chunk_frames])
    if decoded < len(starts):  # a window failed: no audio where the header says
        return None
    return np.concatenate(specs)
