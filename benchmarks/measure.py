"""Measuring tools: wall time and peak memory of a process tree, and the
decode + log-mel ceiling in a process pool. No TensorFlow here.

Run alone, it measures the ceiling of the files under ROOTs with the tagger
that imports here (compare.py runs it so, with the export of one commit on
PYTHONPATH) and prints it as JSON::

    python benchmarks/measure.py [--jobs 2] ROOT...
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")  # bytes
POLL = 0.05  # s between RSS samples
PSS_POLL = 1.0  # s between PSS samples: reading smaps_rollup of a TensorFlow
# process takes ~30 ms of CPU, too much to do 20 times a second on 2 cores


@dataclass
class Measured:
    """One command's run: wall time (s), peak memory of its process tree
    (bytes; RSS summed over the processes, and PSS, which counts a page
    shared by n processes as 1/n in each), and its output."""

    seconds: float
    peak_rss: int
    peak_pss: int
    peak_procs: int
    returncode: int
    stdout: str
    stderr: str


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc/<pid>/stat."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name in parentheses may hold spaces: split after it.
        out[int(name)] = int(stat[stat.rfind(b")") + 2:].split()[1])
    return out


def tree(root: int) -> list[int]:
    """root and all its descendants (the decode workers, their ffmpeg, ...)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def run_measured(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> Measured:
    """Run ``cmd`` (an argument list, no shell) to its end, sampling the memory
    of its whole process tree from another thread (RSS every POLL s, PSS
    every PSS_POLL s)."""
    peak = {"rss": 0, "pss": 0, "procs": 0}
    done = threading.Event()

    def sample(pid: int) -> None:
        next_pss = 0.0
        while not done.is_set():
            pids = tree(pid)
            peak["rss"] = max(peak["rss"], sum(_rss(p) for p in pids))
            peak["procs"] = max(peak["procs"], len(pids))
            if time.monotonic() >= next_pss:
                peak["pss"] = max(peak["pss"], sum(_pss(p) for p in pids))
                next_pss = time.monotonic() + PSS_POLL
            done.wait(POLL)

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=env, cwd=cwd)
        sampler = threading.Thread(target=sample, args=(proc.pid,), daemon=True)
        sampler.start()
        code = proc.wait()
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        return Measured(seconds, peak["rss"], peak["pss"], peak["procs"], code,
                        out.read().decode("utf-8", "replace"),
                        err.read().decode("utf-8", "replace"))


# -- the decode + log-mel ceiling ----------------------------------------------

def files_of(roots: list[str]) -> list[str]:
    """The files tagger scan will find under roots, in its order."""
    from tagger.library import walk

    return [t.path for t in walk(roots)]


def default_frontend() -> dict:
    """The front-end parameters (metadata.json's "frontend") of the shipped model."""
    from tagger.constants import DEFAULT_MODEL_DIR

    # Read as stored: every version's metadata.json has it, whatever reads it.
    return json.loads((Path(DEFAULT_MODEL_DIR) / "metadata.json").read_text())["frontend"]


_FE = None


def _warm(fe_dict: dict, barrier) -> None:
    """Pool initializer: import the decoders and librosa and run each once,
    so the timed part holds only per-file work; then wait at the barrier."""
    global _FE
    import numpy as np

    from oldnames import module

    FrontEnd, log_mel = (getattr(module("tagger.audio.features"), n) for n in ("FrontEnd", "log_mel"))

    _FE = FrontEnd.from_dict(fe_dict)
    # One BLAS thread per process, as tagger's decode workers run: on 2
    # cores it made this pool 1.15x faster (18.8 s -> 16.3 s on the tracks).
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    log_mel(np.zeros(_FE.sample_rate, np.float32), _FE)
    import soundfile  # noqa: F401
    import soxr  # noqa: F401
    barrier.wait()


def _decode_one(path: str):
    """(path, seconds of audio, log-mel frames, error or None)."""
    from oldnames import module
    from tagger.errors import TaggerError

    load_audio = module("tagger.audio.decode").load_audio
    log_mel = module("tagger.audio.features").log_mel

    try:
        y = load_audio(path, _FE.sample_rate)
        spec = log_mel(y, _FE)
    except TaggerError as e:
        return path, 0.0, 0, e.reason
    return path, len(y) / _FE.sample_rate, spec.shape[0], None


def ceiling(paths: list[str], fe_dict: dict, jobs: int) -> tuple[float, float, list]:
    """Decode every path at the model's sample rate and compute its log-mel in
    a pool of ``jobs`` warmed-up processes, in the given order, one file per
    task. Returns (wall s, audio s, [(path, error)]). Pool start-up is not
    timed: this is the limit a scan could reach on these cores."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(jobs + 1)
    with ctx.Pool(jobs, initializer=_warm, initargs=(fe_dict, barrier)) as pool:
        barrier.wait()  # every worker is warm
        start = time.perf_counter()
        results = list(pool.imap_unordered(_decode_one, paths, chunksize=1))
        seconds = time.perf_counter() - start
    audio = sum(r[1] for r in results)
    errors = [(r[0], r[3]) for r in results if r[3] is not None]
    return seconds, audio, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The decode + log-mel ceiling of the files "
                                     "under ROOTs, as JSON on stdout.")
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    import tagger

    paths = files_of(args.roots)
    seconds, audio, errors = ceiling(paths, default_frontend(), args.jobs)
    print(json.dumps({"seconds": seconds, "audio_s": audio, "files": len(paths),
                      "errors": errors, "tagger": tagger.__file__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
