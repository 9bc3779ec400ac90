"""The cost of running a scan on Ray, measured on the same files and cores.

    python benchmarks/cluster.py [--corpus DIR] [--nodes 2] [--cpus-per-node 1]

The 40 full-length tracks of the benchmark corpus (build_corpus.py) go
through a cold local ``tagger scan --jobs N`` and a cold ``tagger scan --ray``
on a local Ray cluster of ``--nodes`` nodes with ``--cpus-per-node`` CPUs each
(N = nodes x CPUs, so both use the same cores), in one run. Printed: wall
times and their ratio (the overhead of Ray on one machine), the driver's CPU
time and peak memory during the cluster scan, whether both gave the same top
genres, and the cache's commit rate (results a driver can store per second,
committed one by one as a scan does). From these it prints the sizing
estimate the README quotes: how many CPUs of the same speed one driver can
feed before its own CPU or SQLite is the wall. Needs root (the cluster runs in
a network namespace of its own, tests/raycluster.py) and Ray.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests"), str(REPO)]

import build_corpus as corpus_mod  # noqa: E402
import raycluster  # noqa: E402
from measure import run_measured  # noqa: E402
from run import _summary, agreement, top_genres  # noqa: E402

COMMITS = 2000  # results stored for the commit-rate figure


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's waited-for children."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def scan(cmd: list[str], env: dict | None = None) -> dict:
    """run.py's figures of one timed command, and the CPU seconds it used."""
    cpu = children_cpu()
    res = _summary(run_measured(cmd, env=env))
    res["cpu"] = children_cpu() - cpu
    return res


def commit_rate(n: int = COMMITS) -> float:
    """Results per second stored in a fresh cache file, one commit each."""
    from tagger.store.cache import Cache, TrackResult

    labels = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop",
              "reggae", "rock", "electronic"]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp) / "cache.db")
        start = time.perf_counter()
        for i in range(n):
            r = TrackResult(f"/music/artist {i % 97}/album {i % 13}/track {i:06d}.flac", "ok",
                            [(g, 1 / len(labels)) for g in labels], None, 240.0, ["Rock"],
                            False, {g: 1 / len(labels) for g in labels})
            cache.store(r, 30_000_000 + i, 1_700_000_000_000_000_000 + i, f"{i:032x}", "bench")
        seconds = time.perf_counter() - start
        cache.close()
    return n / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "corpus")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    reason = raycluster.unavailable()
    if reason:
        print(f"benchmarks/cluster.py {reason}", file=sys.stderr)
        return 2
    work = (args.results or HERE / "results" / ("cluster-" + time.strftime("%Y%m%d-%H%M%S")))
    work.mkdir(parents=True, exist_ok=True)
    entries = corpus_mod.build(args.corpus.resolve(), say=lambda m: print(m, file=sys.stderr))
    tracks = [str(args.corpus.resolve() / e.path) for e in entries]
    audio = sum(e.seconds for e in entries)
    jobs = args.nodes * args.cpus_per_node
    tagger = [sys.executable, "-m", "tagger", "scan", *tracks, "-q"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    print(f"local scan, --jobs {jobs} ...", file=sys.stderr)
    local = scan(tagger + ["--db", str(work / "local.db"), "--jobs", str(jobs),
                           "--report", str(work / "local.json")], env)
    with raycluster.local_cluster(args.nodes, args.cpus_per_node, str(REPO)) as cluster:
        print(f"Ray scan on {args.nodes} nodes x {args.cpus_per_node} CPU ...", file=sys.stderr)
        ray = scan(cluster.command(tagger + ["--db", str(work / "ray.db"), "--ray",
                                             cluster.address, "--report",
                                             str(work / "ray.json")]), cluster.env)
        print("Ray scan of one track (the driver's fixed cost) ...", file=sys.stderr)
        one = scan(cluster.command([sys.executable, "-m", "tagger", "scan", tracks[0], "-q",
                                    "--db", str(work / "one.db"), "--ray", cluster.address]),
                   cluster.env)
    rate = commit_rate()

    same, both, _ = agreement(top_genres(work / "local.json"), top_genres(work / "ray.json"))
    a, b = (json.loads((work / f"{n}.json").read_text()) for n in ("local", "ray"))
    conf = {r["path"]: {g["genre"]: g["confidence"] for g in r["genres"]} for r in a}
    drift = max((abs(g["confidence"] - conf[r["path"]][g["genre"]])
                 for r in b if r["status"] == "ok" for g in r["genres"]), default=0.0)
    n = len(tracks)
    per_track_cpu = max(ray["cpu"] - one["cpu"], 1e-9) / (n - 1)
    cluster_rate = n / ray["seconds"]
    driver_limit = 1 / per_track_cpu if per_track_cpu else float("inf")
    wall = min(driver_limit, rate)
    per_cpu = cluster_rate / jobs

    lines = [
        f"{n} tracks, {audio / 60:.0f} min of audio; {args.nodes} nodes x "
        f"{args.cpus_per_node} CPU vs a local pool of {jobs}; load average "
        f"{os.getloadavg()[0]:.1f} at the end",
        f"local scan:  {local['seconds']:7.1f} s  ({local.get('analysed')} analysed, "
        f"exit {local['returncode']})",
        f"Ray scan:    {ray['seconds']:7.1f} s  ({ray.get('analysed')} analysed, "
        f"exit {ray['returncode']})",
        f"overhead (Ray / local wall time): {ray['seconds'] / local['seconds']:.2f}x",
        f"same top genre: {same}/{both}; largest confidence difference {drift:.4f}",
        f"driver during the Ray scan: {ray['cpu']:.1f} CPU s, of which {one['cpu']:.1f} s "
        f"fixed (a one-track scan) and {per_track_cpu * 1000:.1f} ms per track; peak RSS "
        f"{ray['peak_rss'] / 2**20:.0f} MiB",
        f"cache commit rate: {rate:,.0f} results/s ({COMMITS} single-row commits)",
        f"cluster throughput: {cluster_rate:.2f} tracks/s = {per_cpu:.3f} tracks/s per CPU",
        f"sizing: one driver takes at most {wall:,.0f} tracks/s "
        f"({'its CPU' if driver_limit < rate else 'SQLite'} is the wall), i.e. about "
        f"{wall / per_cpu:,.0f} CPUs like these",
    ]
    (work / "output.txt").write_text("\n".join(lines) + "\n")
    (work / "results.json").write_text(json.dumps({"local": local, "ray": ray, "one": one,
                                                   "commit_rate": rate}, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
