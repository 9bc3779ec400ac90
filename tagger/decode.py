"""Decode an audio file to mono float32 at a given sample rate.

The only place decoders are called. libsndfile (through soundfile, the reader
librosa.load itself uses) comes first for the formats it reads; everything
else, and anything libsndfile fails on, goes to ffmpeg, run with an argument
list (never a shell) from the binary the imageio-ffmpeg wheel ships.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Iterator

import numpy as np

from .constants import SNDFILE_EXTENSIONS
from .errors import DecodeError

FFMPEG_TIMEOUT = 600  # s: longer than any track takes, shorter than forever


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: $TAGGER_FFMPEG, else the imageio-ffmpeg wheel's."""
    exe = os.environ.get("TAGGER_FFMPEG")
    if exe:
        return exe
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def load_audio(path: str | os.PathLike, sr: int, offset: float = 0.0,
               duration: float | None = None) -> np.ndarray:
    """Samples of ``path`` from ``offset`` seconds for ``duration`` seconds (all
    when None), mixed to mono and resampled to ``sr`` Hz: float32, shape (n,).

    Raises DecodeError naming the file when it cannot be decoded or holds no audio.
    """
    path = _non_empty(path)
    y = _load_sndfile(path, sr, offset, duration) if _sndfile_first(path) else None
    if y is None:
        y = _load_ffmpeg(path, sr, offset, duration)
    if y.size == 0:
        raise DecodeError("no audio samples" if offset == 0 else
                          f"no audio samples after {offset:.1f} s", path)
    return _finite(y)


def _non_empty(path: str | os.PathLike) -> str:
    """os.fspath(path); DecodeError when it is missing or empty."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise DecodeError(e.strerror or str(e), path) from e
    if size == 0:
        raise DecodeError("empty file (0 bytes)", path)
    return path


def _sndfile_first(path: str) -> bool:
    """libsndfile is tried first for its formats; ffmpeg reads the rest."""
    return os.path.splitext(path)[1][1:].lower() in SNDFILE_EXTENSIONS


def _finite(y: np.ndarray) -> np.ndarray:
    """NaN and infinite samples (broken decoders emit them) as silence."""
    if np.all(np.isfinite(y)):
        return y
    return np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)


def _load_sndfile(path: str, sr: int, offset: float, duration: float | None):
    """libsndfile + soxr resampling; None when libsndfile cannot read the file."""
    import soundfile as sf

    try:
        with sf.SoundFile(path) as f:
            native = f.samplerate
            start = int(round(offset * native))
            if start:
                if start >= f.frames > 0:
                    return np.zeros(0, np.float32)
                f.seek(start)
            frames = -1 if duration is None else int(round(duration * native))
            y = f.read(frames, dtype="float32", always_2d=True)
    except Exception:  # noqa: BLE001 - any libsndfile failure: let ffmpeg try
        return None
    y = y.mean(axis=1) if y.shape[1] > 1 else y[:, 0]
    if native != sr and y.size:
        import soxr

        y = soxr.resample(y, native, sr, quality="HQ")
    return np.ascontiguousarray(y, dtype=np.float32)


def _ffmpeg_command(path: str, sr: int, offset: float = 0.0,
                    duration: float | None = None) -> list[str]:
    """ffmpeg writing mono float32 samples at ``sr`` Hz to its stdout."""
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error"]
    if offset:
        cmd += ["-ss", f"{offset:.3f}"]  # before -i: seek in the input, decode only the rest
    # "file:" keeps a name such as "-x" or "a:b.mp3" from being read as an
    # option or a protocol.
    cmd += ["-i", "file:" + os.path.abspath(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-ac", "1", "-ar", str(sr)]
    if duration is not None:
        cmd += ["-t", f"{duration:.3f}"]  # on the output: exact whatever the codec's frames
    return cmd + ["-f", "f32le", "-acodec", "pcm_f32le", "-"]


def _load_ffmpeg(path: str, sr: int, offset: float, duration: float | None) -> np.ndarray:
    cmd = _ffmpeg_command(path, sr, offset, duration)
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=FFMPEG_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise DecodeError(f"ffmpeg did not finish within {FFMPEG_TIMEOUT} s", path) from e
    except OSError as e:
        raise DecodeError(f"cannot run ffmpeg: {e}", path) from e
    if proc.returncode != 0 or not proc.stdout:
        raise DecodeError(_ffmpeg_reason(proc.stderr), path)
    return np.frombuffer(proc.stdout, dtype="<f4").copy()


def stream_audio(path: str | os.PathLike, sr: int, block: float) -> Iterator[np.ndarray]:
    """The whole of ``path`` as mono float32 at ``sr`` Hz, in consecutive
    pieces of about ``block`` seconds, from one decoder that reads the file
    once (no seeking): memory holds one piece, however long the track.

    Raises DecodeError naming the file when no audio at all can be decoded;
    a decoder that fails after some audio ends the stream there (a truncated
    file keeps what it holds)."""
    path = _non_empty(path)
    pieces = _stream_sndfile(path, sr, block) if _sndfile_first(path) else None
    if pieces is None:
        pieces = _stream_ffmpeg(path, sr, block)
    yielded = False
    for y in pieces:
        if y.size:
            yielded = True
            yield _finite(y)
    if not yielded:
        raise DecodeError("no audio samples", path)


def _stream_sndfile(path: str, sr: int, block: float) -> Iterator[np.ndarray] | None:
    """libsndfile pieces resampled by one soxr stream (no seams); None when
    libsndfile cannot open the file."""
    import soundfile as sf
    import soxr

    try:
        f = sf.SoundFile(path)
    except Exception:  # noqa: BLE001 - any libsndfile failure: let ffmpeg try
        return None

    def pieces() -> Iterator[np.ndarray]:
        with f:
            native = f.samplerate
            stream = soxr.ResampleStream(native, sr, 1, quality="HQ") if native != sr else None
            frames = max(1, int(block * native))
            while True:
                try:
                    y = f.read(frames, dtype="float32", always_2d=True)
                except Exception:  # noqa: BLE001 - corrupt tail: keep what was read
                    y = np.zeros((0, 1), np.float32)
                last = len(y) < frames
                y = np.ascontiguousarray(y.mean(axis=1) if y.shape[1] > 1 else y[:, 0])
                if stream is not None:
                    y = stream.resample_chunk(y, last=last)
                yield y
                if last:
                    return

    return pieces()


def _stream_ffmpeg(path: str, sr: int, block: float) -> Iterator[np.ndarray]:
    nbytes = max(1, int(block * sr)) * 4
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(_ffmpeg_command(path, sr), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err)
        except OSError as e:
            raise DecodeError(f"cannot run ffmpeg: {e}", path) from e
        got = False
        try:
            while data := proc.stdout.read(nbytes):
                got = True
                yield np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4").copy()
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if proc.returncode != 0 and not got:
            err.seek(0)
            raise DecodeError(_ffmpeg_reason(err.read()), path)


def _ffmpeg_reason(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    if "matches no streams" in text or "does not contain any stream" in text:
        return "no audio stream"
    if "moov atom not found" in text:
        return "truncated or incomplete MP4/M4A file (no moov atom)"
    if ("Invalid data found" in text or "could not find codec" in text.lower()
            or "Error opening input" in text):
        return "not an audio file, or a format ffmpeg cannot read"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "cannot decode: " + (lines[-1][:200] if lines else "ffmpeg produced no audio")


def audio_duration(path: str | os.PathLike) -> float | None:
    """Length in s from the file's headers (mutagen), without decoding;
    None when the headers do not say."""
    import mutagen

    try:
        f = mutagen.File(os.fspath(path))
        length = f.info.length if f is not None else None
    except Exception:  # noqa: BLE001 - unreadable headers: decode in full instead
        return None
    return float(length) if length and length > 0 else None
