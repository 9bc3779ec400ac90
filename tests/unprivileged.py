"""Run tagger in a child process that file modes apply to, even as root.

The tests run as root, which reads and writes any file whatever its mode.
As root the child loses, before it starts, the two capabilities that let
root ignore file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): it stays
uid 0, so it owns the test's temp folders and can run the Python that lives
under /root (mode 0700: an unprivileged user such as nobody cannot, and
nothing outside tmp may be chmodded to let it), but a mode-000 file is as
unreadable to it as to any user. Not as root, the child is simply run.

Usage::

    from unprivileged import run_tagger  # tests/ is on sys.path

    proc = run_tagger("scan", folder, "--db", db)  # CompletedProcess, text output
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys

PR_CAPBSET_DROP = 24  # <linux/prctl.h>
FILE_MODE_CAPS = (1, 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


def _limits(max_file_bytes: int | None):
    def preexec() -> None:
        if os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in FILE_MODE_CAPS:
                if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
        if max_file_bytes is not None:
            # Writes past this size fail with EFBIG (as on a full disk)
            # instead of killing the process with SIGXFSZ.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
    return preexec


def without_file_mode_rights() -> None:
    """A ``preexec_fn`` for any child (``subprocess.run(..., preexec_fn=...)``):
    file modes apply to it, as to ``run_tagger``'s."""
    _limits(None)()


def run_tagger(*args, max_file_bytes: int | None = None, timeout: float = 600
               ) -> subprocess.CompletedProcess:
    """``python -m tagger ARGS`` in a child that file modes apply to; with
    ``max_file_bytes``, no file it writes may grow past that many bytes."""
    return subprocess.run([sys.executable, "-m", "tagger", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limits(max_file_bytes))


def run_python(code: str, *args, max_file_bytes: int | None = None, timeout: float = 600
               ) -> subprocess.CompletedProcess:
    """``python -c CODE ARGS`` in such a child (``sys.argv[1:]`` are ARGS)."""
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_limits(max_file_bytes))


def can_read(path: str | os.PathLike) -> bool:
    """Whether such a child can read ``path`` (a check that the setup works)."""
    code = "import sys; open(sys.argv[1], 'rb').close()"
    proc = subprocess.run([sys.executable, "-c", code, os.fspath(path)],
                          capture_output=True, preexec_fn=_limits(None))
    return proc.returncode == 0
