"""Many cached rows through the cache, plan and every report: seconds per
step at two sizes, so that a step that grows faster than the rows shows.

    python benchmarks/many_rows.py [--rows 10000 40000] [--repeat 3]

The rows are tests/manyrows.py's (no audio): a real SQLite cache filled
through Cache.store in one transaction, read back with tagger.cached, planned
with tagger.plan(fresh=False) under the default policy, turned into records
and written as JSON, CSV and the HTML review page. Prints one line per size
and the ratio of the largest to the smallest per step (linear: the ratio of
the sizes); the fill is timed once, the other steps the best of --repeat.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import manyrows  # noqa: E402
import tagger  # noqa: E402
from tagger.report.render import records, write_report  # noqa: E402
from tagger.writing.policy import WritePolicy  # noqa: E402

STEPS = ("fill", "cached", "plan", "records", "json", "csv", "html")


def measure(n: int, folder: Path, repeat: int) -> dict[str, float]:
    """Seconds per step: the fill once, the rest the best of ``repeat``."""
    times: dict[str, float] = {}

    def step(name, fn):
        start = time.perf_counter()
        out = fn()
        times[name] = min(times.get(name, float("inf")), time.perf_counter() - start)
        return out

    db = folder / f"{n}.db"
    step("fill", lambda: manyrows.fill(db, n))
    for _ in range(repeat):
        results = step("cached", lambda: tagger.cached(db=db))
        plan = step("plan", lambda: tagger.plan(results, WritePolicy(0.5), fresh=False))
        recs = step("records", lambda: records(plan))
        for fmt in ("json", "csv", "html"):
            step(fmt, lambda fmt=fmt: write_report(folder / f"{n}.{fmt}", recs))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            runs[n] = measure(n, Path(tmp), args.repeat)
            print(f"{n:>7,} rows: " + ", ".join(f"{s} {runs[n][s]:.2f} s" for s in STEPS))
    small, large = min(runs), max(runs)
    if small != large:
        print(f"ratio {large // small}x rows: " + ", ".join(
            f"{s} {runs[large][s] / runs[small][s]:.1f}x" for s in STEPS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
