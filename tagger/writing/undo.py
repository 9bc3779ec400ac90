"""Undo: give each file a write run changed its bytes from before the write,
or at least its genre fields, refusing any file changed since tagger wrote
it. The records it reads and writes are the journal's (store/journal.py)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .. import tags
from ..errors import TaggerError
from ..results import UndoOutcome
from ..store.cache import file_state
from ..store.journal import Journal
from ..tags import inplace
from ..tags.delta import Delta, sha256_of
from .writer import clean

# What undo did with each file.
RESTORED, NOT_IDENTICAL, UNCHANGED, REFUSED, ERROR = UndoOutcome  # what undo did with a file
OUTCOMES = (RESTORED, NOT_IDENTICAL, UNCHANGED, REFUSED, ERROR)
DONE = (RESTORED, NOT_IDENTICAL, UNCHANGED)  # nothing left to undo in that file


@dataclass(frozen=True)
class UndoFile:
    """The outcome of undoing one file: one of the five outcomes above, and why."""

    path: str
    outcome: str
    reason: str = ""


@dataclass
class UndoResult:
    """What ``undo`` did: the run, one ``UndoFile`` per file of the run, and
    the hidden copies interrupted runs had left beside them, which it removed."""

    run_id: int
    files: list[UndoFile] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of files per outcome, all five outcomes present."""
        counts = dict.fromkeys(OUTCOMES, 0)
        for f in self.files:
            counts[f.outcome] += 1
        return counts

    def problems(self) -> list[UndoFile]:
        """The files undo could not restore (refused or error)."""
        return [f for f in self.files if f.outcome in (REFUSED, ERROR)]

    def not_identical(self) -> list[UndoFile]:
        """The files whose genres undo put back but not their very bytes."""
        return [f for f in self.files if f.outcome == NOT_IDENTICAL]


def undo(journal: Journal, run_id: int | None = None) -> UndoResult:
    """Restore the genres a run replaced (the latest run when ``run_id`` is None).

    First ``recover``s any interrupted edit and removes what interrupted runs
    left beside the run's files. Per file: written and unchanged since ->
    its bytes from before the write rebuilt from the journal's delta and
    checked against their SHA-256 (restored); when the journal holds no
    delta (an older tagger, a write killed before it was recorded) or the
    file's bytes are not those tagger wrote (a change the size, mtime and
    fingerprint miss), its previous genre fields put back exactly as stored
    instead (not identical, saying why); changed since (size, mtime or
    fingerprint differ) or gone -> refused; recorded but never confirmed
    written (tagger was killed) -> its genre fields put back only if the
    file holds the new genres, "unchanged" if it still holds the previous
    ones, else refused. One file's failure
    never stops the others. The cache learns each restored file's new
    identity, so the next scan does not decode it again. The run is marked
    undone once every file is restored (or unchanged); until then, undoing
    it again retries only the files refused or failed (e.g. a read-only
    file made writable since). Raises TaggerError when there is no such
    run, or it was undone already.
    """
    if run_id is None:
        run_id = journal.latest_run()
        if run_id is None:
            raise TaggerError("no write run to undo")
    run = journal.run(run_id)
    journal.recover()
    entries = journal.entries(run_id)
    cleaned = clean(e["path"] for e in entries)
    files = [chain for chain in _by_path(entries) if chain[-1]["undo_outcome"] not in DONE]
    if run["undone_at"] and not files:
        raise TaggerError(f"write run {run_id} was already undone "
                          f"at {run['undone_at']}")
    id3v23 = bool(json.loads(run["options"]).get("id3v23", False))
    result = UndoResult(run_id, cleaned=cleaned)
    for chain in files:
        last = chain[-1]["id"]
        outcome = _undo_file(chain, id3v23,
                             lambda backup, entry=last: journal.record_backup(entry, backup))
        result.files.append(outcome)
        journal.record_undo(last, outcome.outcome, outcome.reason)
        if outcome.outcome in DONE:
            journal.update_cache(outcome.path, chain[0]["previous_genres"] or [])
    if not result.problems():
        journal.finish_undo(run_id)
    return result


def _by_path(entries: list[dict]) -> list[list[dict]]:
    """The entries of each path in the order recorded, paths in first-recorded order.

    A file written twice in one run goes back to its state before the first
    write, provided it is still as the last write left it.
    """
    chains: dict[str, list[dict]] = {}
    for entry in entries:
        chains.setdefault(entry["path"], []).append(entry)
    return list(chains.values())


def _undo_file(chain: list[dict], id3v23: bool, on_backup) -> UndoFile:
    first, last = chain[0], chain[-1]
    path = last["path"]
    previous = first["previous_genres"] or []
    state = first.get("previous_state")
    try:
        if not os.path.isfile(path):
            return UndoFile(path, REFUSED, "file no longer exists")
        if last["written_at"] is not None:
            changed = _changed_since(path, last)
            if changed:
                return UndoFile(path, REFUSED,
                                f"changed since tagger wrote it ({changed})")
        else:
            # Killed between record_before and record_after: look at the file.
            current = tags.read_genres(path)
            if (tags.read_state(path) == state) if state else current == previous:
                return UndoFile(path, UNCHANGED,
                                "the write never happened; genres are as before")
            if current != last["new_genres"]:
                return UndoFile(path, REFUSED, "write not confirmed and genres "
                                "are neither the previous nor tagger's")
        deltas, why = _deltas(chain, path)
        for delta in reversed(deltas):
            inplace.rebuild(path, delta, on_backup=on_backup)
        if deltas:
            return UndoFile(path, RESTORED, "")
        if state is not None:
            tags.restore_state(path, state, on_backup=on_backup)
        else:  # a journal from before states were recorded
            tags.write_genres(path, previous, id3v23=id3v23, on_backup=on_backup)
    except (TaggerError, OSError) as e:
        return UndoFile(path, ERROR, getattr(e, "reason", None) or str(e))
    return UndoFile(path, NOT_IDENTICAL, f"{why}; its genres are put back as they were")


def _deltas(chain: list[dict], path: str) -> tuple[list[Delta], str]:
    """The deltas that give the file back its bytes from before the chain's
    first write, last write's first; or none, and why."""
    if any(entry["written_at"] is None for entry in chain):
        return [], "the write was interrupted before its bytes were recorded"
    deltas = [entry["delta"] for entry in chain]
    if None in deltas:
        return [], "the journal holds no record of its bytes (an older tagger wrote it)"
    if any(a.written_sha256 != b.original_sha256 for a, b in zip(deltas, deltas[1:])):
        return [], "it was changed between the run's writes"
    if sha256_of(path) != deltas[-1].written_sha256:
        return [], "its bytes changed since tagger wrote it"
    return deltas, ""


def _changed_since(path: str, entry: dict) -> str:
    """What differs from the recorded state, e.g. "size, mtime differ"; "" if nothing."""
    size, mtime_ns, fingerprint = file_state(path)
    differ = [name for name, now, then in (
        ("size", size, entry["size"]), ("mtime", mtime_ns, entry["mtime_ns"]),
        ("content", fingerprint, entry["fingerprint"])) if now != then]
    if not differ:
        return ""
    return ", ".join(differ) + (" differ" if len(differ) > 1 else " differs")
