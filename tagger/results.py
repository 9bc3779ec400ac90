"""The public result types: what a scan knows of a file (``TrackResult``) and
the outcomes of planning, writing and undoing, as string enums.

Every outcome is a ``StrEnum``: its members are the strings reports, CSV and
JSON have always shown (``Action.KEEP == "keep existing"``), so they compare
equal to those strings and serialise as them. The same word can mean
different things at different stages (``Action.UNCHANGED``: the plan would
write what the file already holds; ``UndoOutcome.UNCHANGED``: an undo found
the previous genres already in place), so each stage has its own enum.

Imports nothing of tagger: every layer may use these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    """What ``--write`` would do with one file (``policy.decide``)."""

    WRITE = "write"
    KEEP = "keep existing"
    BELOW = "below threshold"
    UNSUPPORTED = "unsupported format"
    ERROR = "error"
    UNCHANGED = "unchanged"
    EXCLUDED = "excluded"  # filtered out by include/exclude globs
    UNSURE = "unsure"  # the model could not tell its best genres apart
    REJECTED = "rejected"  # a person said, in a review, to leave the file as it is


class WriteOutcome(StrEnum):
    """What a write run did with one file (``Outcome.action``)."""

    WRITTEN = "written"
    SKIPPED = "skipped"  # the file's genres changed since the plan, and the policy now says no
    ERROR = "error"


class UndoOutcome(StrEnum):
    """What an undo did with one file (``UndoFile.outcome``)."""

    RESTORED = "restored"  # its bytes are again those from before the write (SHA-256 checked)
    NOT_IDENTICAL = "not identical"  # its previous genre fields put back, not every byte: see why
    UNCHANGED = "unchanged"  # the file already holds its previous genres
    REFUSED = "refused"  # changed since tagger wrote it, or gone: left alone
    ERROR = "error"  # restoring failed (e.g. the file is now read-only)


@dataclass
class TrackResult:
    """What a scan knows of one file."""

    path: str
    status: str  # "ok" or "error"
    genres: list[tuple[str, float]] = field(default_factory=list)  # best first
    error: str | None = None
    duration: float | None = None  # s
    current_genres: list[str] = field(default_factory=list)  # the file's genre tag
    from_cache: bool = False
    distribution: dict[str, float] = field(default_factory=dict)
    album: str | None = None  # the file's album tag (album consensus groups by it)
    unsure: bool = False  # the model does not trust its top genre (model.Trust): never written
    unsure_reason: str | None = None  # why, when it is not the model's own verdict ("too short to judge: 1.0 s")

    @property
    def top(self) -> tuple[str, float] | None:
        return self.genres[0] if self.genres else None
