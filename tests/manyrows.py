"""A cache of many results, made without audio: the rows a large library
leaves (tests/test_report.py checks them through plan and report;
benchmarks/many_rows.py times the same steps)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tagger.store.cache import Cache, TrackResult
from tagger.writing.policy import DEFAULT_DISPLAY_NAMES

LABELS = sorted(DEFAULT_DISPLAY_NAMES)
MODEL_ID = "many-rows"
# Of every 20 rows, by i % 20: what the default policy (min_confidence 0.5,
# keep existing genres) must decide.
KINDS = {0: "error", 1: "unsure", 2: "below threshold", 3: "unsupported format",
         4: "unchanged", 5: "keep existing"}  # the other 14: "write"


def result(i: int) -> TrackResult:
    """Row i: in folder i // 100 (an album of 100 tracks), its kind by i % 20."""
    kind = KINDS.get(i % 20, "write")
    ext = "aac" if kind == "unsupported format" else ("flac", "mp3", "ogg", "m4a")[i % 4]
    path = f"/music/Artist {i // 1000}/Album {i // 100}/{i:05d} track.{ext}"
    if kind == "error":
        return TrackResult(path, "error", error="decoder timed out after 300 s")
    top = LABELS[i % len(LABELS)]
    confidence = {"unsure": 0.4, "below threshold": 0.3}.get(kind, 0.9)
    rest = [(label, (1 - confidence) / (len(LABELS) - 1)) for label in LABELS if label != top]
    current = {"unchanged": [DEFAULT_DISPLAY_NAMES[top]], "keep existing": ["Old"]}.get(kind, [])
    return TrackResult(path, "ok", [(top, confidence), *rest], duration=30.0,
                       current_genres=current, album=f"Album {i // 100}",
                       unsure=kind == "unsure", distribution=dict([(top, confidence), *rest]))


def fill(db: str | Path, n: int) -> None:
    """A real SQLite cache holding rows 0..n-1."""
    cache = Cache(db)
    try:
        cache.db.execute("begin")  # one transaction: each store() commits on its own otherwise
        for i in range(n):
            cache.store(result(i), 1000 + i, i, f"fp{i}", MODEL_ID)
        cache.db.execute("commit")
    finally:
        cache.close()


def expected_actions(n: int) -> Counter:
    """What the default policy decides for rows 0..n-1, counted from KINDS."""
    return Counter(KINDS.get(i % 20, "write") for i in range(n))
