"""Shared fixtures: a small real music library generated once per session,
copied into each test's temp folder before anything touches it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from audiofiles import make_audio

# name -> (seconds, kind, codec or None): every format the issue names, in
# nested folders, with unicode and spaces in the names.
LIBRARY = {
    "Rock/Band – Album/01 ünïcode tone.wav": (4.0, "tone", None),
    "Rock/Band – Album/02 drums.flac": (4.0, "drums", None),
    "Jazz/noise track.mp3": (4.0, "noise", None),
    "Jazz/Sub Folder/drums.ogg": (4.0, "drums", None),
    "Jazz/Sub Folder/tone.opus": (4.0, "tone", None),
    "Misc/aac tone.m4a": (4.0, "tone", "aac"),
}
NON_AUDIO = ["Rock/cover.jpg", "Jazz/notes.txt", "Misc/album.cue"]


@pytest.fixture(scope="session")
def library_originals(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("library-originals")
    for name, (seconds, kind, codec) in LIBRARY.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        make_audio(root / name, seconds, kind, codec=codec)
    for name in NON_AUDIO:
        (root / name).write_bytes(b"not audio")
    hidden = root / ".hidden"
    hidden.mkdir()
    make_audio(hidden / "skipped.wav", 1.0)
    return root


@pytest.fixture
def music(library_originals, tmp_path) -> Path:
    """A fresh copy of the generated library, safe to modify."""
    dest = tmp_path / "Music"
    shutil.copytree(library_originals, dest)
    return dest


@pytest.fixture
def db(tmp_path) -> Path:
    """A real SQLite file for the cache."""
    return tmp_path / "cache.db"


@pytest.fixture
def cache(tmp_path):
    """A real SQLite cache file in the test's folder (``db``), open."""
    from tagger.store.cache import Cache

    opened = Cache(tmp_path / "cache.db")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def trusting_model(tmp_path_factory) -> Path:
    """The shipped model with its "unsure" rule switched off (no confidence
    floor, no distance limits, no steadiness limit; silence is still unsure).
    The shipped model rightly calls generated tones, noise and drum hits
    (a steady loop) unsure and never
    writes them; the tests of writing, undo and recovery need files that get
    a genre, so they scan with this copy. The network and head are the
    shipped ones."""
    import json

    from tagger.constants import DEFAULT_MODEL_DIR

    folder = tmp_path_factory.mktemp("trusting-model")
    for f in DEFAULT_MODEL_DIR.iterdir():
        if f.is_file():
            shutil.copy(f, folder / f.name)
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    meta["unsure"] = {**meta["unsure"], "min_confidence": 0.0, "max_distance": None,
                      "min_variation": None, "max_genre_distance": None,
                      "max_tag_distance": None}
    (folder / "metadata.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return folder


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The paths every decode pool is handed in this process, as it is handed
    them (a scan and training both decode through audio.chunks' DecodePool)."""
    from tagger.audio import chunks
    from tagger.audio.workers import DecodePool

    paths: list[str] = []

    class Counting(DecodePool):
        def imap(self, tasks):
            tasks = list(tasks)
            paths.extend(p for p, _ in tasks)
            return super().imap(tasks)

    monkeypatch.setattr(chunks, "DecodePool", Counting)
    return paths
