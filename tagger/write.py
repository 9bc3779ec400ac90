"""Apply a write plan: journal first, then an in-place tag write, per file.

First any write a kill interrupted is recovered from its backup (the
journal's ``recover``). Then for each file the policy says to write: check it
is still the file that was analysed, make its backup and commit it to the
journal with the previous genres, edit the tags in place
(tags.write_genres), then record the file's new identity in the journal and
the cache, so the next scan does not analyse it again. A file reached under
two names in one run (a symlink and its target, hard links) is written once.
One file's failure is recorded and the rest go on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import tags
from .cache import Cache
from .errors import TaggerError
from .journal import Journal, file_state
from .policy import ERROR, WRITE, Decision


@dataclass
class Outcome:
    path: str
    action: str  # "written" or "error"
    reason: str = ""


def apply(planned: list[tuple[dict, Decision]], cache: Cache, identities: dict[str, tuple[int, int]],
          options: dict, roots: list[str], on_file=None) -> tuple[int | None, list[Outcome]]:
    """Write every "write" decision; returns (the journal's run id, outcomes).

    ``identities`` maps each path to the (size, mtime_ns) it had when it was
    analysed: a file changed or deleted since is not written. Writes a kill
    interrupted are put back from their backups first, then what killed
    writes left under ``roots`` is removed.
    """
    journal = Journal(cache.db)
    journal.recover()
    for root in roots:
        if os.path.isdir(root):
            tags.remove_stale_temps(root)
    todo = [(r, d) for r, d in planned if d.action == WRITE]
    if not todo:
        return None, []
    run_id = journal.start_run(options)
    outcomes = []
    done: dict[tuple[int, int], tuple[str, list[str]]] = {}  # (dev, inode) -> written
    try:
        for result, decision in todo:
            path = result["path"]
            same = _written_as(done, path)
            if same is not None:
                outcome = _same_file(path, decision, *same)
            else:
                outcome = _write_one(journal, cache, run_id, path, decision,
                                     identities.get(path), options)
                if outcome.action == "written":
                    _remember(done, path, decision)
            outcomes.append(outcome)
            if on_file:
                on_file(outcome)
    finally:
        journal.finish_run(run_id)
    return run_id, outcomes


def _write_one(journal: Journal, cache: Cache, run_id: int, path: str, decision: Decision,
               identity: tuple[int, int] | None, options: dict) -> Outcome:
    try:
        st = os.stat(path)
    except OSError as e:
        return Outcome(path, ERROR, f"cannot write: {e.strerror or e}")
    if identity is not None and (st.st_size, st.st_mtime_ns) != identity:
        return Outcome(path, ERROR, "changed since it was analysed; scan again")
    entry = None

    def record(backup):  # the backup is made: journal it before the edit
        nonlocal entry
        entry = journal.record_before(run_id, path, previous or None,
                                      decision.genres_to_write, backup=backup)

    try:
        previous = tags.read_genres(path)
        tags.write_genres(path, decision.genres_to_write,
                          id3v23=bool(options.get("id3v23")), on_backup=record)
        size, mtime_ns, fp = file_state(path)
        journal.record_after(entry, size, mtime_ns, fp)
        cache.update_identity(path, size, mtime_ns, fp, decision.genres_to_write)
    except TaggerError as e:
        return Outcome(path, ERROR, e.reason)
    return Outcome(path, "written", "; ".join(decision.genres_to_write))


def _written_as(done: dict, path: str) -> tuple[str, list[str]] | None:
    """(path, genres) under which this run already wrote the same file, if it did."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return done.get((st.st_dev, st.st_ino))


def _remember(done: dict, path: str, decision: Decision) -> None:
    st = os.stat(path)
    done[(st.st_dev, st.st_ino)] = (path, decision.genres_to_write)


def _same_file(path: str, decision: Decision, first: str, genres: list[str]) -> Outcome:
    """The outcome for a second name of a file this run wrote (a symlink or a hard link)."""
    if decision.genres_to_write == genres:
        return Outcome(path, "written", f"{'; '.join(genres)} (the same file as {first})")
    return Outcome(path, ERROR, f"the same file as {first}, which was given "
                   f"{'; '.join(genres)}; not written again")
