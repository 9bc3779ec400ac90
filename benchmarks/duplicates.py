"""A library of identical files: how long a cold scan takes, and how many
files it decodes, for one or more versions of tagger.

    python benchmarks/duplicates.py [--rev REV ...] [--clips 3] [--links 100]
                                    [--seconds 30] [--jobs 2] [--results DIR]

The library: ``--clips`` generated clips of ``--seconds`` s (FLAC), each with
``--links`` hard links to it in other folders (as issue 23.6's library of
10,000 hard links to three clips, smaller). Each ``--rev`` (a git commit, or
WORK: the working tree, the default) is exported as run.py does and runs
``tagger scan LIBRARY --db FRESH -j JOBS -q`` once, cold; the line printed is
the files found, analysed (decoded), taken from an identical file, and the
wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from exported import WORK, environment, export, verify  # noqa: E402
from run import scan  # noqa: E402

DUPLICATES = re.compile(r"(\d+) duplicates taken from an identical file")
RATE = 44_100  # Hz


def make_library(root: Path, clips: int, links: int, seconds: float) -> int:
    """``clips`` clips, each in ``links`` + 1 places; returns the file count."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * RATE)) / RATE
    for c in range(clips):
        # A chord and a beat of noise bursts: each clip different.
        y = sum(np.sin(2 * np.pi * f * (c + 1) * t) for f in (220, 277, 330)) / 6
        y += 0.3 * rng.standard_normal(len(t)) * ((t * (2 + c)) % 1 < 0.1)
        clip = root / "Albums" / f"clip {c}.flac"
        clip.parent.mkdir(parents=True, exist_ok=True)
        sf.write(clip, y.astype(np.float32), RATE)
        for i in range(links):
            link = root / f"Compilation {i // 100}" / f"{i} - clip {c}.flac"
            link.parent.mkdir(exist_ok=True)
            os.link(clip, link)
    return clips * (links + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", action="append", help="git commit or WORK (repeatable)")
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--results", type=Path,
                        default=HERE / "results" / time.strftime("duplicates-%Y%m%d-%H%M%S"))
    args = parser.parse_args(argv)
    library = args.results / "library"
    files = make_library(library, args.clips, args.links, args.seconds)
    print(f"library: {args.clips} clips of {args.seconds:g} s, {args.links} hard links each: "
          f"{files} files")
    for rev in args.rev or [WORK]:
        dest = args.results / f"src-{rev}"
        commit = export(rev, dest)
        env = environment(dest)
        verify(dest, env)
        res = scan([str(library)], args.results / f"{rev}.db", args.jobs, env=env)
        dup = DUPLICATES.search(res.get("stdout", ""))
        print(f"{rev} ({commit or 'working tree'}): {res.get('found')} found, "
              f"{res.get('analysed')} analysed, {dup.group(1) if dup else 0} from an identical "
              f"file, {res.get('failed')} failed, {res['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
