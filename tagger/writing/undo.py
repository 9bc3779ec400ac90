"""Undo: put back the genre fields a write run replaced, file by file,
refusing any file changed since tagger wrote it. The records it reads and
writes are the journal's (journal.py)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .. import tags
from ..errors import TaggerError
from ..store.journal import Journal, file_state

# What undo did with each file.
RESTORED = "restored"  # previous genres written back
UNCHANGED = "unchanged"  # the file already holds its previous genres
REFUSED = "refused"  # changed since tagger wrote it, or gone: left alone
ERROR = "error"  # restoring failed (e.g. the file is now read-only)


@dataclass(frozen=True)
class UndoFile:
    """The outcome of undoing one file: one of the four outcomes above, and why."""

    path: str
    outcome: str
    reason: str = ""


@dataclass
class UndoResult:
    """What ``undo`` did: the run, and one ``UndoFile`` per file of the run."""

    run_id: int
    files: list[UndoFile] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of files per outcome, all four outcomes present."""
        counts = dict.fromkeys((RESTORED, UNCHANGED, REFUSED, ERROR), 0)
        for f in self.files:
            counts[f.outcome] += 1
        return counts

    def problems(self) -> list[UndoFile]:
        """The files undo could not restore (refused or error)."""
        return [f for f in self.files if f.outcome in (REFUSED, ERROR)]


def undo(journal: Journal, run_id: int | None = None) -> UndoResult:
    """Restore the genres a run replaced (the latest run when ``run_id`` is None).

    First ``recover``s any interrupted edit. Per file: written and
    unchanged since -> previous genre fields put back exactly as stored
    (fields tagger added removed again, an ID3 tag or chunk tagger created
    removed whole); changed since (size, mtime or fingerprint differ) or
    gone -> refused; recorded but never confirmed written (tagger was
    killed) -> restored only if the file holds the new genres, "unchanged"
    if it still holds the previous ones, else refused. One file's failure
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
    files = [(first, last) for first, last in _by_path(journal.entries(run_id))
             if last["undo_outcome"] not in (RESTORED, UNCHANGED)]
    if run["undone_at"] and not files:
        raise TaggerError(f"write run {run_id} was already undone "
                          f"at {run['undone_at']}")
    id3v23 = bool(json.loads(run["options"]).get("id3v23", False))
    result = UndoResult(run_id)
    for first, last in files:
        outcome = _undo_file(first, last, id3v23,
                             lambda backup, entry=last["id"]: journal.record_backup(entry, backup))
        result.files.append(outcome)
        journal.record_undo(last["id"], outcome.outcome, outcome.reason)
        if outcome.outcome in (RESTORED, UNCHANGED):
            journal.update_cache(outcome.path)
    if not result.problems():
        journal.finish_undo(run_id)
    return result


def _by_path(entries: list[dict]) -> list[tuple[dict, dict]]:
    """(first, last) entry per path, in first-recorded order.

    A file written twice in one run goes back to its genres before the first
    write, provided it is still as the last write left it.
    """
    firsts: dict[str, dict] = {}
    lasts: dict[str, dict] = {}
    for entry in entries:
        firsts.setdefault(entry["path"], entry)
        lasts[entry["path"]] = entry
    return [(firsts[p], lasts[p]) for p in firsts]


def _undo_file(first: dict, last: dict, id3v23: bool, on_backup) -> UndoFile:
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
        if state is not None:
            tags.restore_state(path, state, on_backup=on_backup)
        else:  # a journal from before states were recorded
            tags.write_genres(path, previous, id3v23=id3v23, on_backup=on_backup)
    except (TaggerError, OSError) as e:
        return UndoFile(path, ERROR, getattr(e, "reason", None) or str(e))
    return UndoFile(path, RESTORED, "")


def _changed_since(path: str, entry: dict) -> str:
    """What differs from the recorded state, e.g. "size, mtime differ"; "" if nothing."""
    size, mtime_ns, fingerprint = file_state(path)
    differ = [name for name, now, then in (
        ("size", size, entry["size"]), ("mtime", mtime_ns, entry["mtime_ns"]),
        ("content", fingerprint, entry["fingerprint"])) if now != then]
    if not differ:
        return ""
    return ", ".join(differ) + (" differ" if len(differ) > 1 else " differs")
