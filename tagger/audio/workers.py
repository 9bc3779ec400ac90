"""The process pool over decode + features. No TensorFlow here.

Each worker runs analysis.analyse on one file at a time and returns its
log-mel spectrogram.
The pool knows which file each worker holds, so a decoder that crashes its
process (a segfault in a native library) or hangs costs only that file: the
worker is replaced, the file is reported with the reason, and the rest go on.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Iterable, Iterator

from .analysis import Decoded, analyse
from ..constants import DEFAULT_TIMEOUT
from .features import FrontEnd
from .processes import process_class

# Decoded spectrograms that may wait for the consumer (the network): the
# workers go on decoding while it loads or runs, within this bound.
BACKLOG_BYTES = 64 * 2**20  # bytes = 64 MiB


def _worker(conn, fe_dict: dict, verbose: bool, task_fn) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # One BLAS thread per worker: the pool already keeps every core busy,
    # and OpenBLAS threads on top of it (librosa's mel filter bank is a
    # matrix product) made the pool's decoding 1.4x slower on 2 cores.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if not verbose:
        # Native decoders (mpg123, ...) print notes about every bad frame;
        # failures reach the user as the file's error instead.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    fe = FrontEnd.from_dict(fe_dict)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        path, fast = task
        conn.send(task_fn(path, fe, fast))


class _Slot:
    def __init__(self, process: type, fe: FrontEnd, verbose: bool, task_fn):
        self.conn, child = mp.Pipe()
        self.proc = process(target=_worker, args=(child, fe.to_dict(), verbose, task_fn),
                            daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple | None = None
        self.started = 0.0

    def give(self, task) -> None:
        self.task, self.started = task, time.monotonic()
        self.conn.send(task)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class DecodePool:
    """``jobs`` worker processes; ``imap`` yields a Decoded for every task, in
    completion order. One file per worker is in flight and at most
    BACKLOG_BYTES of results wait, so memory stays flat however large the
    library.

    ``analyse`` is what a worker runs per task, ``(path, fe, fast) -> Decoded``:
    a module-level function (workers import it by name), this module's
    ``analyse`` unless given."""

    def __init__(self, fe: FrontEnd, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 verbose: bool = False, analyse=analyse):
        self.fe, self.timeout, self.verbose = fe, timeout, verbose
        self.analyse = analyse
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        # forkserver: workers fork from a small clean process started before
        # TensorFlow is imported, so replacing a crashed worker is cheap and
        # safe; and they never run the caller's __main__ (processes.py).
        self._process = process_class()
        self._slots = [_Slot(self._process, fe, verbose, analyse) for _ in range(self.jobs)]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def imap(self, tasks: Iterable[tuple[str, tuple | None]]) -> Iterator[Decoded]:
        """Start decoding ``tasks`` now, in a thread that hands them out and
        collects the results, so the workers go on while the consumer loads
        a model or works on earlier results. Iterate the returned generator
        for the results, in completion order."""
        backlog = _Backlog(BACKLOG_BYTES)

        def run() -> None:
            try:
                for item in self._dispatch(tasks):
                    if not backlog.put(item, self._stop):
                        return
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
                backlog.put(_Failed(e), self._stop)
            backlog.put(_DONE, self._stop)

        self._thread = threading.Thread(target=run, name="tagger-decode-pool", daemon=True)
        self._thread.start()

        def results() -> Iterator[Decoded]:
            while (item := backlog.get()) is not _DONE:
                if isinstance(item, _Failed):
                    raise item.error
                yield item

        return results()

    def _dispatch(self, tasks: Iterable[tuple[str, tuple | None]]) -> Iterator[Decoded]:
        pending = iter(tasks)
        for slot in self._slots:
            task = next(pending, None)
            if task is None:
                break
            slot.give(task)
        while not self._stop.is_set() and any(s.task for s in self._slots):
            busy = [s for s in self._slots if s.task]
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy],
                         timeout=0.2)
            now = time.monotonic()
            for i, slot in enumerate(self._slots):
                if not slot.task:
                    continue
                result = None
                if slot.conn in ready or slot.proc.sentinel in ready:
                    try:
                        result = slot.conn.recv() if slot.conn.poll() else None
                    except (EOFError, OSError):
                        result = None
                    if result is None and not slot.proc.is_alive():
                        result = Decoded(slot.task[0], error=_crash_reason(slot.proc.exitcode))
                        slot = self._replace(i)
                if result is None and slot.task and now - slot.started > self.timeout:
                    result = Decoded(slot.task[0],
                                     error=f"decoder timed out after {self.timeout:g} s")
                    slot = self._replace(i)
                if result is not None:
                    slot.task = None
                    task = next(pending, None)
                    if task is not None:
                        slot.give(task)
                    yield result

    def _replace(self, i: int) -> _Slot:
        self._slots[i].kill()
        self._slots[i] = _Slot(self._process, self.fe, self.verbose, self.analyse)
        return self._slots[i]

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for slot in self._slots:
            try:
                if slot.task is None:
                    slot.conn.send(None)
            except OSError:
                pass
        for slot in self._slots:
            slot.proc.join(0.5)
            slot.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_DONE = object()


@dataclass
class _Failed:
    error: BaseException


class _Backlog:
    """Results waiting for the consumer, bounded by the bytes of their
    spectrograms (there is always room for one)."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self.items: deque = deque()
        self.cond = threading.Condition()

    def put(self, item, stop: threading.Event) -> bool:
        size = item.spec.nbytes if isinstance(item, Decoded) and item.spec is not None else 0
        with self.cond:
            while self.items and self.size + size > self.limit:
                if stop.is_set():
                    return False
                self.cond.wait(0.1)
            self.items.append((item, size))
            self.size += size
            self.cond.notify_all()
        return True

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.wait()
            item, size = self.items.popleft()
            self.size -= size
            self.cond.notify_all()
        return item


def _crash_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"decoder crashed ({name})"
    return f"decoder process exited unexpectedly (code {exitcode})"
