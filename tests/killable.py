"""Run the tagger command line in this process with a pause patched into its
tag writes, so that a test can SIGKILL it at a chosen moment. The patch lives
here, not in tagger: tagger's own code has no test switches.

    python tests/killable.py pause SECONDS -- scan LIB --db DB --write ...
        sleeps SECONDS before each file's tag write
    python tests/killable.py break-at N READY -- undo --db DB
        lets N - 1 edits run, then breaks the Nth half-way (the first half of
        the new bytes written over the old, the file cut there), writes the
        file's path into READY and waits to be killed
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tagger import tags
from tagger.cli import app
from tagger.tags import inplace


def pause_before_writes(seconds: float) -> None:
    real = tags.write_genres

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return real(*args, **kwargs)

    tags.write_genres = slow


def break_edit(n: int, ready: Path) -> None:
    commit = inplace._commit  # every in-place edit (a write's, an undo's) goes through it
    calls = 0

    def broken_commit(path, real, *args):
        def edit(target, backup):
            nonlocal calls
            calls += 1
            if calls < n:
                return real(target, backup)
            half_way(target, backup, real)

        return commit(path, edit, *args)

    def half_way(target, backup, real):
        with tempfile.TemporaryDirectory() as folder:  # what the edit would write
            done = Path(folder) / Path(target).name
            shutil.copyfile(target, done)
            real(done, backup)
            new = done.read_bytes()
        with open(target, "r+b") as f:
            f.write(new[: len(new) // 2])
            f.truncate()
            f.flush()
            os.fsync(f.fileno())
        ready.write_text(str(target), encoding="utf-8")
        time.sleep(3600)

    inplace._commit = broken_commit


def main(argv: list[str]) -> None:
    split = argv.index("--")
    mode, *params = argv[:split]
    if mode == "pause":
        pause_before_writes(float(params[0]))
    elif mode == "break-at":
        break_edit(int(params[0]), Path(params[1]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    app(args=argv[split + 1:], prog_name="tagger")


if __name__ == "__main__":
    main(sys.argv[1:])
