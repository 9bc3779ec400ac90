"""Apply a write plan: journal first, then an atomic tag write, per file.

For each file the policy says to write: check it is still the file that was
analysed, commit its previous genres to the journal, write the new genres
(tags.write_genres: temp copy, fsync, one rename), then record the file's new
identity in the journal and the cache, so the next scan does not analyse it
again. One file's failure is recorded and the rest go on.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from . import tags
from .cache import Cache
from .errors import TaggerError
from .journal import Journal, file_state
from .policy import ERROR, WRITE, Decision


# Test-only: seconds to pause before each file's write, so that a test can
# kill a write run in the middle.
DELAY_ENV = "TAGGER_TEST_WRITE_DELAY"


@dataclass
class Outcome:
    path: str
    action: str  # "written" or "error"
    reason: str = ""


def apply(planned: list[tuple[dict, Decision]], cache: Cache, identities: dict[str, tuple[int, int]],
          options: dict, roots: list[str], on_file=None) -> tuple[int | None, list[Outcome]]:
    """Write every "write" decision; returns (the journal's run id, outcomes).

    ``identities`` maps each path to the (size, mtime_ns) it had when it was
    analysed: a file changed or deleted since is not written. Temp files a
    killed earlier write left under ``roots`` are removed first.
    """
    for root in roots:
        if os.path.isdir(root):
            tags.remove_stale_temps(root)
    todo = [(r, d) for r, d in planned if d.action == WRITE]
    if not todo:
        return None, []
    journal = Journal(cache.db)
    run_id = journal.start_run(options)
    outcomes = []
    delay = float(os.environ.get(DELAY_ENV) or 0)
    try:
        for result, decision in todo:
            if delay:
                time.sleep(delay)
            outcome = _write_one(journal, cache, run_id, result["path"], decision,
                                 identities.get(result["path"]), options)
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
    try:
        previous = tags.read_genres(path)
        entry = journal.record_before(run_id, path, previous or None, decision.genres_to_write)
        tags.write_genres(path, decision.genres_to_write, id3v23=bool(options.get("id3v23")))
        size, mtime_ns, fp = file_state(path)
        journal.record_after(entry, size, mtime_ns, fp)
        cache.update_identity(path, size, mtime_ns, fp, decision.genres_to_write)
    except TaggerError as e:
        return Outcome(path, ERROR, e.reason)
    return Outcome(path, "written", "; ".join(decision.genres_to_write))
