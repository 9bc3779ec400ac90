"""A/B speed comparison of two versions of tagger: cold full scans, interleaved.

    python benchmarks/compare.py A B [--repeat 3] [--jobs 2] [--corpus DIR] [--quick]

A and B are git commits (anything ``git rev-parse`` knows) or WORK (a copy
of this checkout's tagger/ and models/ as they are now). Each is exported
to its own folder and checked to be the code that imports there (exported.py).
Then, on the corpus tracks, ``--repeat`` pairs of cold full ``tagger scan``
(fresh --db each) run alternately A B, B A, A B, ... so that a drift in the
machine's load falls on both sides alike. Just before each scan (unless
``--no-ceiling``) the decode + log-mel ceiling of the same files is measured
with A's code every time: a gauge of how fast the machine was just then, the
same work each time.

It prints each run's seconds and load average, each pair's ratio B/A (above
1: B is slower), their median and spread, the same ratio against the
ceilings beside them, and A/A noise: how far A's own runs lie apart.
It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_corpus as corpus_mod  # noqa: E402
import exported  # noqa: E402
import run  # noqa: E402
from run import Printer, cpu_model, log  # noqa: E402


class Side:
    """One version under comparison: its name, export folder and environment."""

    def __init__(self, label: str, rev: str, dest: Path):
        self.label, self.rev, self.dest = label, rev, dest
        self.commit = exported.export(rev, dest)
        self.env = exported.environment(dest)
        self.seen = exported.verify(dest, self.env)
        self.name = self.commit or "working tree"


def ceiling(side: Side, roots: list[str], jobs: int) -> dict:
    """The decode + log-mel ceiling of ``roots`` in a child process running
    ``side``'s code (measure.py; pool start-up untimed)."""
    proc = subprocess.run([sys.executable, str(HERE / "measure.py"), "--jobs", str(jobs), *roots],
                          env=side.env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"Error: the ceiling failed: {proc.stderr.strip()[-1000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    if not exported.inside(res["tagger"], side.dest):
        raise SystemExit(f"Error: the ceiling imported tagger from {res['tagger']}, "
                         f"not from {side.dest}")
    res["load"] = os.getloadavg()[0]
    return res


def pair_order(i: int) -> tuple[str, str]:
    """A B, B A, A B, ...: each side goes first in half of the pairs."""
    return ("A", "B") if i % 2 == 0 else ("B", "A")


def spread(values: list[float]) -> str:
    """'median (min .. max)' of ratios."""
    return (f"{statistics.median(values):.3f} ({min(values):.3f} .. {max(values):.3f})"
            if values else "-")


def relative_range(values: list[float]) -> float:
    """(max - min) / median: how far a side's own runs lie apart."""
    return (max(values) - min(values)) / statistics.median(values) if len(values) > 1 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Interleaved cold full scans of two versions of tagger; prints ratios.")
    parser.add_argument("a", metavar="A", help="the reference: a git commit, or WORK")
    parser.add_argument("b", metavar="B", help="the version compared with it: a git commit, or WORK")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of scans (default 3)")
    parser.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                        help="skip the ceiling beside each scan (about half a scan's time each)")
    run.shared_options(parser)
    args = parser.parse_args(argv)
    corpus_dir, work, _lock = run.start(args, "compare-")  # the lock is held until main ends
    started = time.perf_counter()

    out = Printer()
    sides = {}
    for label, rev in (("A", args.a), ("B", args.b)):
        log(f"exporting {label} = {rev}")
        sides[label] = Side(label, rev, work / f"{label}-{rev.replace('/', '_')}")
    entries = corpus_mod.build(corpus_dir, quick=args.quick, jobs=args.jobs,
                               say=lambda m: log(m.strip()))
    roots = [str(corpus_dir / e.path) for e in entries]
    audio_min = sum(e.seconds for e in entries) / 60

    out(f"tagger A/B comparison, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
        f"{' (--quick)' if args.quick else ''}")
    out(f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
        f"{cpu_model()}; load avg {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start")
    for s in sides.values():
        out(f"{s.label} = {s.rev} ({s.name}): tagger from {s.seen['tagger']}, "
            f"model {s.seen['model_dir']}")
    out(f"files: {len(roots)} corpus tracks, {audio_min:.1f} min of audio ({corpus_dir}); "
        f"tagger scan --jobs {args.jobs} --precision {args.precision}, cold (fresh --db)")
    out(f"ceiling: decode + log-mel with A's code, pool of {args.jobs}, "
        + ("just before every scan" if args.ceiling else "not measured"))

    # Untimed warm-up: the files, TensorFlow and each side's code into the page cache.
    log("warm-up: one untimed scan of the shortest track with each side")
    shortest = [str(corpus_dir / min(entries, key=lambda e: e.seconds).path)]
    for f in roots:
        Path(f).read_bytes()
    for s in sides.values():
        res = run.scan(shortest, work / f"warmup-{s.label}.db", args.jobs, env=s.env)
        if res.get("failed") != 0:
            raise SystemExit(f"Error: the warm-up scan of {s.label} failed: "
                             f"{res['stderr_tail'][-1000:]}")

    out()
    out(f"{'pair':>4} {'side':>4} {'scan s':>8} {'own s':>7} {'ceil s':>7} {'load':>5}  failed")
    runs = []
    for i in range(args.repeat):
        for label in pair_order(i):
            s = sides[label]
            ceil = ceiling(sides["A"], roots, args.jobs) if args.ceiling else None
            load = os.getloadavg()[0]
            log(f"pair {i + 1}/{args.repeat}: cold scan of {label}")
            res = run.scan(roots, work / f"pair{i + 1}-{label}.db", args.jobs, env=s.env)
            r = {"pair": i + 1, "side": label, "seconds": res["seconds"],
                 "own_seconds": res.get("own_seconds"), "failed": res.get("failed"),
                 "returncode": res["returncode"], "load_before": load, "load_after": res["load"],
                 "ceiling": ceil and {k: ceil[k] for k in ("seconds", "audio_s", "load")}}
            runs.append(r)
            out(f"{i + 1:>4} {label:>4} {r['seconds']:>8.1f} {r['own_seconds'] or 0:>7.1f} "
                f"{ceil['seconds'] if ceil else 0:>7.1f} {load:>5.1f}  {r['failed']}")
            if r["failed"] != 0 or r["returncode"] not in (0, 1):
                log(f"{label}'s scan: exit {r['returncode']}, {r['failed']} failed: "
                    f"{res['stderr_tail'][-500:]}")

    summary = summarise(out, runs, args.repeat)
    out()
    out(f"load avg at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"wall time {(time.perf_counter() - started) / 60:.1f} min; details in {work}")
    (work / "output.txt").write_text("\n".join(out.lines) + "\n")
    (work / "results.json").write_text(json.dumps({
        "a": {"rev": args.a, "commit": sides["A"].commit, "tagger": sides["A"].seen["tagger"]},
        "b": {"rev": args.b, "commit": sides["B"].commit, "tagger": sides["B"].seen["tagger"]},
        "files": len(roots), "audio_min": audio_min, "jobs": args.jobs,
        "precision": args.precision, "ceiling": args.ceiling, "runs": runs,
        "summary": summary}, indent=1) + "\n")
    return 0


def summarise(out: Printer, runs: list[dict], pairs: int) -> dict:
    """Print and return the ratios B/A per pair, their median and spread, and A/A noise."""
    by = {(r["pair"], r["side"]): r for r in runs}
    scan_ratios, ceil_ratios, relative = [], [], []
    out()
    out(f"{'pair':>4} {'B/A scan':>9} {'B/A ceiling':>12} {'B/A scan/ceiling':>17}")
    for i in range(1, pairs + 1):
        a, b = by[(i, "A")], by[(i, "B")]
        scan_ratios.append(b["seconds"] / a["seconds"])
        line = f"{i:>4} {scan_ratios[-1]:>9.3f}"
        if a["ceiling"] and b["ceiling"]:
            ceil_ratios.append(b["ceiling"]["seconds"] / a["ceiling"]["seconds"])
            relative.append(scan_ratios[-1] / ceil_ratios[-1])
            line += f" {ceil_ratios[-1]:>12.3f} {relative[-1]:>17.3f}"
        out(line)
    a_secs = [r["seconds"] for r in runs if r["side"] == "A"]
    b_secs = [r["seconds"] for r in runs if r["side"] == "B"]
    a_ceils = [r["ceiling"]["seconds"] for r in runs if r["side"] == "A" and r["ceiling"]]
    noise = relative_range(a_secs)
    out()
    out(f"B/A full scan, median (min .. max) of {pairs} pairs: {spread(scan_ratios)}")
    if relative:
        out(f"B/A full scan against the ceiling beside it:     {spread(relative)}")
    out(f"A/A noise: A's {len(a_secs)} scans {min(a_secs):.1f} .. {max(a_secs):.1f} s, "
        f"{noise:.1%} apart (max - min over median); B's {relative_range(b_secs):.1%}"
        + (f"; the ceiling beside A {relative_range(a_ceils):.1%}" if a_ceils else ""))
    out("(above 1: B takes longer than A. A median ratio within the A/A noise "
        "is no measured difference.)")
    return {"scan_ratios": scan_ratios, "ceiling_ratios": ceil_ratios,
            "scan_over_ceiling_ratios": relative,
            "median_ratio": statistics.median(scan_ratios),
            "median_ratio_over_ceiling": statistics.median(relative) if relative else None,
            "a_seconds": a_secs, "b_seconds": b_secs, "a_noise": noise}


if __name__ == "__main__":
    sys.exit(main())
