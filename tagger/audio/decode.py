"""Decode an audio file to mono float32 at a given sample rate.

The only place decoders are called. libsndfile (through soundfile, the reader
librosa.load itself uses) comes first for the formats it reads, recognised by
the file's first bytes, not its name (an AAC file named .mp3 is common, and
libsndfile decodes it as a few ms of noise); everything else, and anything
libsndfile fails on or decodes nothing of, goes to ffmpeg, run with an argument
list (never a shell) from the binary the imageio-ffmpeg wheel ships.

``truncation`` compares what a file decodes to with the length its
container declares (``tags.read_tags``), so that a file that decodes to much
less (an interrupted download) can be told from a short track.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Iterator

import numpy as np

from ..tags._raw import id3 as raw_id3
from ..errors import DecodeError

FFMPEG_TIMEOUT = 600  # s: longer than any track takes, shorter than forever

# What libsndfile reads, by the content _sniff finds; the rest goes to ffmpeg.
SNDFILE_CONTENT = frozenset({"wav", "aiff", "flac", "ogg-vorbis", "ogg-flac", "mpeg"})
SNIFF_BYTES = 64  # bytes read after any ID3v2 tag: enough for every magic below
# What ffmpeg writes to its stdout: mono float32 samples, little-endian.
PCM_SAMPLE = np.dtype("<f4")

# A file is truncated when it decodes to less than the length its header
# declares, minus this share of it and this many seconds. The slack covers
# what honest files differ by: encoder delay and padding, AAC priming,
# header rounding (WMA: 20.015 s declared, 19.969 s decoded). Declared
# lengths are only taken from headers that state them (frame or sample
# counts), never from a bitrate estimate (MP3 without a Xing/VBRI header:
# VBR files would look truncated, or far too long, by that estimate).
TRUNCATION_SHARE = 0.1
TRUNCATION_SLACK = 1.0  # s
# libsndfile reads a stream's blocks in steps of this: a read that fails on a
# truncated file's corrupt tail loses at most one step of the audio before it.
STREAM_READ_STEP = 1.0  # s


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: $TAGGER_FFMPEG, else the imageio-ffmpeg wheel's."""
    exe = os.environ.get("TAGGER_FFMPEG")
    if exe:
        return exe
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def load_audio(path: str | os.PathLike, sr: int, offset: float = 0.0,
               duration: float | None = None, declared: float | None = None) -> np.ndarray:
    """Samples of ``path`` from ``offset`` seconds for ``duration`` seconds (all
    when None), mixed to mono and resampled to ``sr`` Hz: float32, shape (n,).
    ``declared``: the length (s) the header states (``tags.read_tags``); when
    libsndfile decodes a whole file to much less, ffmpeg tries too and the
    longer decode is kept (so a truncation is the file's, not libsndfile's).

    Raises DecodeError naming the file when it cannot be decoded or holds no audio.
    """
    path = _non_empty(path)
    y = _load_sndfile(path, sr, offset, duration) if _sndfile_first(path) else None
    if y is not None and (y.size == 0 or (
            declared and not offset and duration is None
            and truncation(len(y) / sr, declared) is not None)):
        try:
            other = _load_ffmpeg(path, sr, offset, duration)
        except DecodeError:
            other = None
        y = other if other is not None and len(other) > len(y) else y
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
    """libsndfile is tried first for what it reads; ffmpeg reads the rest."""
    return _sniff(path) in SNDFILE_CONTENT


def _sniff(path: str) -> str | None:
    """What the file holds, by its magic bytes (after any ID3v2 tags): "wav",
    "aiff", "flac", "ogg-vorbis", "ogg-flac", "ogg" (other codecs), "mpeg"
    (MPEG audio frames: MP3, MP2), "adts" (AAC), "mp4"; None when unknown.
    DecodeError when the file cannot be read."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
            while head[:3] == b"ID3" and len(head) >= raw_id3.HEADER_SIZE:  # WMP writes several
                f.seek(f.tell() - len(head) + raw_id3.tag_size(head))
                head = f.read(SNIFF_BYTES)
    except OSError as e:
        raise DecodeError(e.strerror or str(e), path) from e
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return ("ogg-vorbis" if b"\x01vorbis" in head else
                "ogg-flac" if b"\x7fFLAC" in head else "ogg")
    if head[4:8] == b"ftyp":
        return "mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # Frame sync: layer bits 00 are AAC's ADTS, others MPEG audio layers.
        return "adts" if head[1] & 0x06 == 0 else "mpeg"
    return None


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
    return np.frombuffer(proc.stdout, dtype=PCM_SAMPLE).copy()


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
            step = max(1, int(STREAM_READ_STEP * native))
            while True:
                parts, want = [], frames
                while want > 0:
                    try:
                        part = f.read(min(step, want), dtype="float32", always_2d=True)
                    except Exception:  # noqa: BLE001 - corrupt tail: keep what was read
                        break
                    parts.append(part)
                    want -= len(part)
                    if len(part) < min(step, want + len(part)):
                        break
                y = np.concatenate(parts) if parts else np.zeros((0, f.channels), np.float32)
                last = len(y) < frames
                y = np.ascontiguousarray(y.mean(axis=1) if y.shape[1] > 1 else y[:, 0])
                if stream is not None:
                    y = stream.resample_chunk(y, last=last)
                yield y
                if last:
                    return

    return pieces()


def _stream_ffmpeg(path: str, sr: int, block: float) -> Iterator[np.ndarray]:
    nbytes = max(1, int(block * sr)) * PCM_SAMPLE.itemsize
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
                whole = len(data) // PCM_SAMPLE.itemsize * PCM_SAMPLE.itemsize
                yield np.frombuffer(data[:whole], dtype=PCM_SAMPLE).copy()
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


def truncation(decoded: float, declared: float | None) -> str | None:
    """Why a file that decoded to ``decoded`` s is truncated, when its header
    declares ``declared`` s (None: it does not say); None when it is whole."""
    if declared is None or decoded >= declared * (1 - TRUNCATION_SHARE) - TRUNCATION_SLACK:
        return None
    return f"truncated: {seconds_text(decoded)} of the {seconds_text(declared)} its header declares"


def seconds_text(seconds: float) -> str:
    """A length for people: "0.2 s", "42 s", "4 min 10 s", "1 h 2 min"."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"
