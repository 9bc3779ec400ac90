"""Small real audio files for tests, encoded by ffmpeg from a generated signal.

Usage::

    from audiofiles import make_audio, make_format, decode, FORMATS  # tests/ is on sys.path

    path = make_audio(tmp_path / "a.flac", seconds=1.0, kind="tone")
    alac = make_audio(tmp_path / "b.m4a", codec="alac")
    mp3 = make_format(tmp_path, "mp3", metadata={"genre": "Rock"})
    pcm = decode(mp3)  # bytes: the decoded float32 samples, to compare exactly

``FORMATS`` names every format ffmpeg here can encode (wav, flac, mp3, ogg,
opus, aac and alac in .m4a, aiff, wma, wv). Monkey's Audio and Musepack have no
encoder in ffmpeg: ``make_stub`` writes a minimal header that mutagen accepts,
followed by filler bytes; such a file carries tags but is not decodable audio.
``ALL_FORMATS`` is both lists.

``AudioLibrary`` makes each format once (per test session, say) and hands out
copies, untagged or carrying ``EXISTING_TAGS``::

    @pytest.fixture(scope="session")
    def library(tmp_path_factory):
        return AudioLibrary(tmp_path_factory.mktemp("originals"))

    def test_x(library, tmp_path):
        path = library.copy("flac", tmp_path, tagged=True)

Everything runs ffmpeg (the imageio-ffmpeg binary) with argument lists, never
through a shell. Files are deterministic: same arguments, same bytes.
"""

from __future__ import annotations

import os
import struct
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 44_100  # Hz
KINDS = ("tone", "noise", "silence", "drums")

# Keep ffmpeg from adding an encoder tag or other metadata of its own.
_QUIET = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]


@dataclass(frozen=True)
class AudioFormat:
    """One encodable format: file suffix and ffmpeg encoder."""

    suffix: str
    codec: str


FORMATS: dict[str, AudioFormat] = {
    "wav": AudioFormat(".wav", "pcm_s16le"),
    "flac": AudioFormat(".flac", "flac"),
    "mp3": AudioFormat(".mp3", "libmp3lame"),
    "ogg": AudioFormat(".ogg", "libvorbis"),
    "opus": AudioFormat(".opus", "libopus"),
    "aac": AudioFormat(".m4a", "aac"),
    "alac": AudioFormat(".m4a", "alac"),
    "aiff": AudioFormat(".aiff", "pcm_s16be"),
    "wma": AudioFormat(".wma", "wmav2"),
    "wv": AudioFormat(".wv", "wavpack"),
}

# Default encoder per suffix, for make_audio without ``codec``.
_CODEC_BY_SUFFIX = {f.suffix: f.codec for name, f in FORMATS.items() if name != "alac"}
_CODEC_BY_SUFFIX.update({".oga": "libvorbis", ".aif": "pcm_s16be", ".mp4": "aac"})

STUB_FORMATS = ("ape", "mpc")
ALL_FORMATS = (*FORMATS, *STUB_FORMATS)

# What AudioLibrary's tagged files carry, as another tagger would have left it.
EXISTING_TAGS = {"title": "Keep Me", "genre": "Rock"}


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary that imageio-ffmpeg ships."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def signal(seconds: float = 1.0, kind: str = "tone", *,
           sample_rate: int = SAMPLE_RATE, channels: int = 1) -> np.ndarray:
    """A test signal, shape (frames, channels), float32 in [-1, 1].

    ``tone``: 440 Hz plus two quieter harmonics; ``noise``: seeded white
    noise; ``silence``: zeros; ``drums``: decaying noise bursts every 0.25 s
    over a low thump, a drum-like pattern.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    if kind == "tone":
        mono = sum(a * np.sin(2 * np.pi * f * t)
                   for f, a in ((440, 0.4), (880, 0.15), (1320, 0.08)))
    elif kind == "noise":
        mono = np.random.default_rng(0).uniform(-0.3, 0.3, t.size)
    elif kind == "drums":
        phase = t % 0.25
        burst = np.random.default_rng(1).uniform(-1, 1, t.size) * np.exp(-phase * 40)
        mono = 0.4 * burst + 0.4 * np.sin(2 * np.pi * 60 * t) * np.exp(-phase * 15)
    else:
        mono = np.zeros(t.size)
    return np.repeat(np.asarray(mono, np.float32)[:, None], channels, axis=1)


def make_audio(path: str | os.PathLike, seconds: float = 1.0, kind: str = "tone",
               *, codec: str | None = None, metadata: dict[str, str] | None = None,
               sample_rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    """Encode ``signal(seconds, kind)`` into ``path``; the suffix picks the format.

    ``codec`` overrides the suffix's default encoder (``"alac"`` for Apple
    Lossless in ``.m4a``). Without ``metadata`` the file has no tag block
    wherever the container allows it (Ogg always has a comment header).
    ``metadata`` (e.g. ``{"genre": "Rock", "title": "T"}``) is written by
    ffmpeg the way that container does it: ID3v2.4 in MP3 and AIFF, Vorbis
    comments, MP4 atoms, ASF attributes, APEv2 in WavPack, and a RIFF INFO
    list (not ID3) in WAV. Returns the path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    codec = codec or _CODEC_BY_SUFFIX.get(suffix)
    if codec is None:
        raise ValueError(f"no encoder for {suffix!r}; use make_stub for ape/mpc")
    samples = signal(seconds, kind, sample_rate=sample_rate, channels=channels)
    args = [ffmpeg_exe(), "-v", "error", "-y",
            "-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels),
            "-i", "pipe:0", *_QUIET, "-c:a", codec]
    for key, value in (metadata or {}).items():
        args += ["-metadata", f"{key}={value}"]
    if suffix == ".mp3" and not metadata:
        args += ["-id3v2_version", "0"]
    if suffix in (".aif", ".aiff") and metadata:
        args += ["-write_id3v2", "1"]
    args.append(str(path))
    subprocess.run(args, input=samples.tobytes(), check=True,
                   capture_output=True)
    return path


def make_format(folder: str | os.PathLike, name: str, stem: str = "track",
                **kwargs) -> Path:
    """``make_audio(folder / (stem + suffix))`` for a ``FORMATS`` or ``STUB_FORMATS`` name."""
    if name in STUB_FORMATS:
        return make_stub(Path(folder) / f"{stem}.{name}")
    fmt = FORMATS[name]
    return make_audio(Path(folder) / f"{stem}{fmt.suffix}", codec=fmt.codec,
                      **kwargs)


def decode(path: str | os.PathLike) -> bytes:
    """The first audio stream decoded by ffmpeg to interleaved float32 (f32le).

    Two files whose audio data is identical decode to identical bytes, so
    comparing these checks that a tag write left the audio alone.
    """
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", os.fspath(path), "-map", "0:a:0",
         "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"],
        check=True, capture_output=True)
    return result.stdout


def make_stub(path: str | os.PathLike, payload_bytes: int = 4096) -> Path:
    """A minimal Monkey's Audio (``.ape``) or Musepack SV7 (``.mpc``) file.

    The header is what mutagen reads (one second, 44.1 kHz); the rest is
    ``payload_bytes`` of seeded random filler standing in for audio. No
    decoder plays it, so tests check that a tag write keeps every byte of the
    original at the start of the file (APEv2 tags are appended at the end).
    """
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind == "ape":
        # Descriptor up to byte 56, then the header mutagen reads for v3.98+.
        header = (b"MAC " + struct.pack("<H", 3990) + bytes(50)
                  + struct.pack("<IIIHHI", 73728 * 4, SAMPLE_RATE, 1, 16, 1,
                                SAMPLE_RATE))
    elif kind == "mpc":
        # SV7: "MP+" and version, frame count, flags (rate index 0 = 44.1 kHz),
        # then peaks/gains and padding to 32 bytes.
        frames = int(SAMPLE_RATE / 1152) + 1
        header = b"MP+\x07" + struct.pack("<II", frames, 0) + bytes(20)
    else:
        raise ValueError(f"make_stub makes .ape or .mpc files, not {path.name}")
    payload = np.random.default_rng(1).integers(
        0, 256, payload_bytes, dtype=np.uint8).tobytes()
    path.write_bytes(header + payload)
    return path


def add_existing_tags(path: str | os.PathLike, metadata: dict[str, str]) -> None:
    """Tag a file with mutagen where ffmpeg can't write tags mutagen reads.

    WAV gets an ID3 chunk (ffmpeg writes RIFF INFO instead); ``.ape`` and
    ``.mpc`` stubs get an APEv2 tag. Only the keys "title" and "genre".
    """
    from mutagen.apev2 import APEv2
    from mutagen.id3 import TCON, TIT2
    from mutagen.wave import WAVE

    path = Path(path)
    if path.suffix.lower() == ".wav":
        wave = WAVE(path)
        if wave.tags is None:
            wave.add_tags()
        wave.tags.add(TIT2(encoding=3, text=[metadata["title"]]))
        wave.tags.add(TCON(encoding=3, text=[metadata["genre"]]))
        wave.save()
    else:
        ape = APEv2()
        ape["Title"] = metadata["title"]
        ape["Genre"] = metadata["genre"]
        ape.save(path)


class AudioLibrary:
    """Each format made once into ``folder``; tests get copies to write to."""

    def __init__(self, folder: str | os.PathLike, seconds: float = 1.0):
        self.folder = Path(folder)
        self.seconds = seconds
        self._made: dict[tuple[str, bool], Path] = {}

    def original(self, name: str, tagged: bool = False) -> Path:
        """The shared original of a format (an ``ALL_FORMATS`` name): never write to it."""
        key = (name, tagged)
        if key not in self._made:
            stem = f"{name}-tagged" if tagged else name
            if name in STUB_FORMATS:
                path = make_stub(self.folder / f"{stem}.{name}")
            elif tagged and name != "wav":
                path = make_format(self.folder, name, stem, seconds=self.seconds,
                                   metadata=EXISTING_TAGS)
            else:
                path = make_format(self.folder, name, stem, seconds=self.seconds)
            if tagged and (name in STUB_FORMATS or name == "wav"):
                add_existing_tags(path, EXISTING_TAGS)
            self._made[key] = path
        return self._made[key]

    def copy(self, name: str, dest: str | os.PathLike, tagged: bool = False,
             stem: str | None = None) -> Path:
        """A fresh copy of ``original(name, tagged)`` in folder ``dest``."""
        source = self.original(name, tagged)
        target = Path(dest) / f"{stem or source.stem}{source.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        return target


def leftovers(folder: str | os.PathLike) -> list[str]:
    """Names of the hidden temps and backups tag writes left in ``folder``."""
    from tagger.constants import BACKUP_MARKER, TEMP_MARKER

    return [p.name for p in Path(folder).iterdir()
            if TEMP_MARKER in p.name or BACKUP_MARKER in p.name]
