"""A small, partly tagged music library, generated: Artist/Album/NN Title.ext.

Two kinds of music anyone can hear apart and that are not steady sounds (so
that a model's "unsure" rule does not refuse them as noise): "keys", piano-
like decaying notes of a melody, and "beats", a drum groove with a bass line;
each album its own key, tempo and seed. Tags are written by ffmpeg as each
format does it (ID3v2.4 in MP3, Vorbis comments in Ogg).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

from audiofiles import ffmpeg_exe

RATE = 22_050  # Hz


def music(kind: str, seconds: float, seed: int) -> np.ndarray:
    """``seconds`` of "keys" or "beats", float32 mono in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n)
    if kind == "keys":
        root = 220 * 2 ** (rng.integers(0, 12) / 12)
        scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
        start = 0
        while start < n:
            length = int(rng.choice([0.25, 0.5, 0.75]) * RATE)
            f = root * 2 ** (rng.choice(scale) / 12)
            t = np.arange(min(length * 3, n - start)) / RATE
            note = sum(a * np.sin(2 * np.pi * f * h * t) for h, a in ((1, 0.5), (2, 0.2), (3, 0.1)))
            out[start: start + len(t)] += note * np.exp(-t * 4) * rng.uniform(0.4, 1.0)
            start += length
    elif kind == "beats":
        beat = 60 / rng.uniform(85, 120)  # s
        bass = 55 * 2 ** (rng.integers(0, 7) / 12)
        for i, start in enumerate(np.arange(0, seconds, beat / 2)):
            s = int(start * RATE)
            t = np.arange(min(int(beat * RATE), n - s)) / RATE
            if i % 4 == 0:
                hit = np.sin(2 * np.pi * 60 * t) * np.exp(-t * 20)  # kick
            elif i % 4 == 2:
                hit = rng.uniform(-1, 1, len(t)) * np.exp(-t * 25) * 0.7  # snare
            else:
                hit = rng.uniform(-1, 1, len(t)) * np.exp(-t * 80) * 0.3  # hi-hat
            hit = hit + 0.3 * np.sin(2 * np.pi * bass * (1 + (i // 8) % 2 * 0.5) * t) * np.exp(-t * 6)
            out[s: s + len(t)] += hit * (1.0 if (i // 16) % 2 == 0 else 0.5)
    else:
        raise ValueError(kind)
    return (0.8 * out / max(1e-9, np.abs(out).max())).astype(np.float32)


def make_track(path: str | os.PathLike, kind: str, seconds: float, seed: int,
               tags: dict[str, str]) -> Path:
    """Encode ``music(kind, seconds, seed)`` to ``path`` (its suffix picks
    the format) with the given tags (genre, album, artist, title)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = [ffmpeg_exe(), "-v", "error", "-y", "-f", "f32le", "-ar", str(RATE), "-ac", "1",
            "-i", "pipe:0", "-map_metadata", "-1"]
    args += ["-c:a", {".mp3": "libmp3lame", ".ogg": "libvorbis"}[path.suffix]]
    for key, value in tags.items():
        args += ["-metadata", f"{key}={value}"]
    args.append(str(path))
    subprocess.run(args, input=music(kind, seconds, seed).tobytes(), check=True,
                   capture_output=True)
    return path


# (artist, album, kind, genre tag or None: untagged, format): each album 3 tracks.
ALBUMS = [
    ("Ana Keys", "First Light", "keys", "Classical", ".ogg"),
    ("Ana Keys", "Second Light", "keys", "classical", ".mp3"),
    ("Bo Piano", "Etudes", "keys", "Classical", ".ogg"),
    ("Cy Beats", "Block Party", "beats", "Hip-Hop", ".mp3"),
    ("Di Drums", "Corner", "beats", "hip hop", ".ogg"),
    ("Di Drums", "Late Corner", "beats", "Hip-Hop", ".mp3"),
    ("Ed Organ", "Quiet Hours", "keys", None, ".ogg"),
    ("Fa Loops", "Street", "beats", None, ".mp3"),
]
TRACKS_PER_ALBUM = 3
SECONDS = 8.0


def make_library(root: str | os.PathLike, albums=ALBUMS, seconds: float = SECONDS) -> Path:
    """The library of ``albums`` under ``root``: Artist/Album/NN Title.ext."""
    root = Path(root)
    for a, (artist, album, kind, genre, ext) in enumerate(albums):
        for i in range(TRACKS_PER_ALBUM):
            tags = {"artist": artist, "album": album, "title": f"{kind} {i + 1}"}
            if genre is not None:
                tags["genre"] = genre
            make_track(root / artist / album / f"{i + 1:02d} {kind} {i + 1}{ext}", kind, seconds,
                       seed=100 * a + i, tags=tags)
    return root
