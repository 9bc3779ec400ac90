"""The real dev clips of ``shared/data`` beside the repository (in CI a copy
of shared/ lies beside the clone; ``$TAGGER_SHARED_DATA`` names another
place, e.g. for a git worktree). A test that needs them skips where they are
missing, except under ``CI=true``, where it fails: CI must test the shipped
model on real music, not pass because the music was not there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TAGGER_SHARED_DATA") or REPO.parent / "shared" / "data")


def shared_data(name: str) -> Path:
    """The folder ``name`` of the shared data (e.g. "gtzan-dev"); skips the
    calling test where it is missing (fails under CI=true)."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        message = f"needs the real clips of {folder}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: a missing folder fails, it does not skip)")
        pytest.skip(message)
    return folder
