"""Apply a write plan: journal first, then an in-place tag write, per file.

First any write a kill interrupted is recovered from its backup (the
journal's ``recover``). Then for each file the plan says to write: check it
is still the file that was analysed, read its genres again and decide again
if they are no longer the ones the plan saw (another program may have set a
genre without changing the file's size or time), make its backup and commit
it to the journal with the previous genres, edit the tags in place
(tags.write_genres), then record in the journal the file's new identity and
the delta that gives its old bytes back (before the backup is removed), and
the new identity in the cache, so the next scan does not analyse it again.
A file reached under two names in one run (a symlink and its target, hard
links) is written once.
One file's failure is recorded and the rest go on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..tags import inplace
from .. import tags
from ..errors import TaggerError
from ..store.cache import Cache, file_state
from ..store.journal import Journal
from ..library import top_folders
from ..results import Action, WriteOutcome
from .policy import Decision, Plan, PlanEntry, decide

WRITTEN, SKIPPED, ERROR = WriteOutcome.WRITTEN, WriteOutcome.SKIPPED, WriteOutcome.ERROR


@dataclass(frozen=True)
class Outcome:
    """What a write run did with one file: WRITTEN, SKIPPED or ERROR, and why
    (for WRITTEN, the genres written joined by "; "); ``genres``: those
    written (WRITTEN)."""

    path: str
    action: str
    reason: str = ""
    genres: tuple[str, ...] = ()


@dataclass
class WriteRun:
    """A write run: its journal id (None when the plan had nothing to write,
    so no run was opened), one ``Outcome`` per file the plan said to write, and
    the hidden copies interrupted runs had left, which it removed."""

    id: int | None
    outcomes: list[Outcome] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == WRITTEN]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == SKIPPED]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == ERROR]


def apply(plan: Plan, cache: Cache, *, id3v23: bool = False,
          on_file: Callable[[Outcome], None] | None = None) -> WriteRun:
    """Write every "write" entry of ``plan``; returns the run and its outcomes.

    A file whose size or mtime differ from those the cache holds for its
    result (changed or deleted since it was analysed) is not written.
    ``id3v23`` writes ID3v2.3 tags instead of v2.4 on files that have no tag
    yet. Writes a kill interrupted are put back from their backups first,
    then what interrupted runs left in the plan's folders is removed.
    """
    journal = Journal(cache)
    journal.recover()
    cleaned = clean(e.result.path for e in plan)
    todo = plan.to_write()
    if not todo:
        return WriteRun(None, cleaned=cleaned)
    # The journal keeps the run's options as JSON (undo honours "id3v23").
    run = WriteRun(journal.start_run({**dataclasses.asdict(plan.policy), "id3v23": id3v23}),
                   cleaned=cleaned)
    done: dict[tuple[int, int], tuple[str, list[str]]] = {}  # (dev, inode) -> written
    try:
        for entry in todo:
            same = _written_as(done, entry.result.path)
            if same is not None:
                outcome = _same_file(entry.result.path, entry.decision, *same)
            else:
                outcome = _write_one(journal, cache, run.id, entry, plan, id3v23)
                if outcome.action == WRITTEN:
                    st = os.stat(entry.result.path)
                    done[(st.st_dev, st.st_ino)] = (entry.result.path, list(outcome.genres))
            run.outcomes.append(outcome)
            if on_file:
                on_file(outcome)
    finally:
        journal.finish_run(run.id)
    return run


def _write_one(journal: Journal, cache: Cache, run_id: int, entry: PlanEntry, plan: Plan,
               id3v23: bool) -> Outcome:
    path = entry.result.path
    try:
        st = os.stat(path)
    except OSError as e:
        return Outcome(path, ERROR, f"cannot write: {e.strerror or e}")
    identity = cache.identity(path)
    if identity is not None and (st.st_size, st.st_mtime_ns) != identity:
        return Outcome(path, ERROR, "changed since it was analysed; scan again")
    try:
        with tags.parsed_once():  # one parse: genres, their state, the write's check
            previous, tag_state = tags.read_genres(path), tags.read_state(path)
            decision = _still(entry, previous, plan)
            if decision.action != Action.WRITE:
                return Outcome(path, SKIPPED, f"its genres changed since the plan to "
                               f"{'; '.join(previous) or 'none'}: {decision.action} "
                               f"({decision.reason})")
            record = state = None

            def journal_backup(backup) -> None:  # the backup is made: journal it first
                nonlocal record
                record = journal.record_before(run_id, path, previous or None,
                                               decision.genres_to_write, tag_state, backup)

            def journal_edit(delta) -> None:  # the edit is on disk, its backup not yet gone
                nonlocal state
                state = file_state(path)
                journal.record_after(record, *state, delta)

            tags.write_genres(path, decision.genres_to_write, id3v23=id3v23,
                              on_backup=journal_backup, on_edited=journal_edit)
        cache.retagged(path, decision.genres_to_write, state)
    except TaggerError as e:
        return Outcome(path, ERROR, e.reason)
    return Outcome(path, WRITTEN, "; ".join(decision.genres_to_write),
                   tuple(decision.genres_to_write))


def _written_as(done: dict, path: str) -> tuple[str, list[str]] | None:
    """(path, genres) under which this run already wrote the same file, if it did."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return done.get((st.st_dev, st.st_ino))


def _same_file(path: str, decision: Decision, first: str, genres: list[str]) -> Outcome:
    """The outcome for a second name of a file this run wrote (a symlink or a hard link)."""
    if decision.genres_to_write == genres:
        return Outcome(path, WRITTEN, f"{'; '.join(genres)} (the same file as {first})",
                       tuple(genres))
    return Outcome(path, ERROR, f"the same file as {first}, which was given "
                   f"{'; '.join(genres)}; not written again")


def _still(entry: PlanEntry, current: list[str], plan: Plan) -> Decision:
    """The entry's decision, or a new one when the file's genres are no longer
    those the plan decided on (a person's decision is not remade: "keep")."""
    if current == entry.result.current_genres:
        return entry.decision
    if entry.chosen:  # a person decided on the genres it had then
        seen = "; ".join(entry.result.current_genres) or "none"
        return Decision(Action.KEEP, [], f"decided when it had {seen}; review it again")
    result = dataclasses.replace(entry.result, current_genres=list(current))
    return decide(result, current, plan.policy, album_genres=entry.album_genres)


def clean(paths) -> list[str]:
    """Remove what interrupted runs left beside these files (their folders and
    the folders under them: ``inplace.remove_stale_temps``); return it. Run it
    after the journal's ``recover``."""
    removed: list[str] = []
    for root in top_folders(os.path.dirname(p) for p in paths):
        if os.path.isdir(root):
            removed += map(str, inplace.remove_stale_temps(root))
    return removed
