"""How the decode workers start: forked from a warm forkserver, and never
running the caller's ``__main__``.

multiprocessing's forkserver and spawn children first run the parent's
``__main__`` again (its script by path, or its module by name), so that
functions defined there can be unpickled. The workers need nothing from it,
and it broke the API for plain scripts: one that calls ``tagger.scan`` at top
level (no ``if __name__ == "__main__":`` guard) scanned again in every worker,
which waited for the cache's run lock until the decoder timeout; a script
read from stdin (``python - < script.py``) has the path ``<stdin>``, which the
child cannot open, so it died before reading its task (BrokenPipeError in the
parent). So the preparation data sent to each worker leaves the main module out.

Platforms without forkserver (Windows) spawn the workers as multiprocessing
does; there a script needs the guard.
"""

from __future__ import annotations

import functools
import io
import multiprocessing as mp
import os
from multiprocessing import spawn, util
from multiprocessing.context import reduction, set_spawning_popen
from multiprocessing.process import BaseProcess

# What the forkserver imports once; every worker forked from it starts warm.
PRELOAD = ["tagger.audio.warmup"]
# The keys of multiprocessing.spawn.get_preparation_data that make a child
# run the parent's __main__ (spawn.prepare -> _fixup_main_from_path / _name).
MAIN_KEYS = ("init_main_from_path", "init_main_from_name")


def preparation_data(name: str) -> dict:
    """What a new worker is prepared with: multiprocessing's own data, less
    the parent's main module."""
    data = spawn.get_preparation_data(name)
    for key in MAIN_KEYS:
        data.pop(key, None)
    return data


def process_class() -> type[BaseProcess]:
    """The Process class the pool starts its workers with."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn").Process
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(PRELOAD)
    return MainlessProcess


class MainlessProcess(BaseProcess):
    """A forkserver process that does not run the parent's ``__main__``."""

    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj):
        return _popen_class()(process_obj)


@functools.cache
def _popen_class():
    from multiprocessing import forkserver, popen_forkserver

    class MainlessPopen(popen_forkserver.Popen):
        def _launch(self, process_obj) -> None:
            # popen_forkserver.Popen._launch (CPython 3.11-3.13), with
            # preparation_data in place of spawn.get_preparation_data.
            prep_data = preparation_data(process_obj._name)
            buf = io.BytesIO()
            set_spawning_popen(self)
            try:
                reduction.dump(prep_data, buf)
                reduction.dump(process_obj, buf)
            finally:
                set_spawning_popen(None)
            self.sentinel, w = forkserver.connect_to_new_process(self._fds)
            # A duplicate of the data pipe's write end: the child's sentinel of its parent.
            parent_w = os.dup(w)
            self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
            with open(w, "wb", closefd=True) as f:
                f.write(buf.getbuffer())
            self.pid = forkserver.read_signed(self.sentinel)

    return MainlessPopen
