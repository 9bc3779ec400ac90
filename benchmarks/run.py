"""Speed benchmark of ``tagger scan``: prints figures and ratios, asserts nothing.

    python benchmarks/run.py [--corpus DIR] [--jobs 2] [--quick]

In one run, on the same files and cores, for each set of files (the
full-length tracks of the corpus, then the gtzan-dev clips read in place):

1. the decode + log-mel ceiling: tagger.audio.decode.load_audio at the model's
   sample rate + tagger.audio.features.log_mel in a pool of --jobs warmed processes;
2. a cold ``tagger scan`` (fresh --db, start-up included);
3. a warm re-scan of the unchanged files (same --db);
4. a cold ``tagger scan --fast`` (fresh --db);
5. the peer reference (peer.py): the same network, one call per
   non-overlapping 3 s chunk, track after track, in one process;

then the peak memory of cold ``--fast`` scans of a small library (the corpus
tracks + clips) and of one ten times larger (the same files under other
names), and a warm re-scan of the larger one. Run it on an otherwise idle
machine: the load average is printed before and after each step.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import build_corpus as corpus_mod  # noqa: E402
import exported  # noqa: E402
from measure import Measured, ceiling, default_frontend, files_of, run_measured  # noqa: E402

DEFAULT_CORPUS = HERE / "corpus"
DEFAULT_GTZAN = Path(os.environ.get("TAGGER_GTZAN", REPO.parent / "shared" / "data" / "gtzan-dev"))
COPIES = 10  # the large library is this many copies of the small one
CLIPS_PER_GENRE = 0  # gtzan-dev clips per genre; 0 = all of them
QUICK_CLIPS_PER_GENRE = 2

# Reference targets from the issue (2 cores, no GPU). Printed beside the
# figures; nothing here fails when one is missed.
TARGETS = {
    "ceiling_ratio": ">= 0.5",
    "fast_speedup": ">= 4x",
    "fast_agreement": ">= 90 %",
    "warm_rate": ">= 2000 files/s",
    "memory_ratio": "flat (~1.0)",
    "peer_speedup": ">= 3x",
}


class Printer:
    """Prints to stdout and keeps a copy for output.txt."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def log(message: str) -> None:
    """Progress, on stderr (the figures go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}",
          file=sys.stderr, flush=True)


# -- the machine ---------------------------------------------------------------

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def header(out: Printer, jobs: int, corpus_dir: Path, quick: bool, rev: str | None) -> dict:
    import soundfile

    from oldnames import module

    native_bfloat16 = module("tagger.model.device").native_bfloat16

    ffmpeg = corpus_mod.ffmpeg_exe()
    ffmpeg_version = subprocess.run([ffmpeg, "-version"], capture_output=True,
                                    text=True).stdout.split("\n")[0]
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0.0
    dirty = exported.git("status", "--porcelain", "--", "tagger", "models")
    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(), "memory_gib": round(mem, 1), "load_start": os.getloadavg(),
        "python": platform.python_version(),
        "versions": {m: _version(m) for m in (
            "tagger", "tensorflow", "keras", "numpy", "librosa", "soundfile", "soxr",
            "imageio-ffmpeg", "mutagen", "sqlite-utils")},
        "libsndfile": soundfile.__libsndfile_version__,
        "ffmpeg": ffmpeg_version,
        "git": (f"{rev} (exported)" if rev else exported.git("rev-parse", "--short", "HEAD")
                + (" + uncommitted changes in tagger/ or models/" if dirty else "")
                + ", copied at start"),
        "env": {k: os.environ[k] for k in sorted(os.environ)
                if k.startswith(("OPENBLAS_", "OMP_", "TF_ENABLE", "TF_NUM", "MKL_"))},
        "jobs": jobs, "corpus": str(corpus_dir), "quick": quick,
        "precision": PRECISION, "native_bfloat16": native_bfloat16(),
    }
    v = info["versions"]
    out(f"tagger benchmark, {info['date']}{' (--quick)' if quick else ''}")
    out(f"machine:  {info['cores']} cores ({info['usable_cores']} usable), {info['cpu']}, "
        f"{info['memory_gib']} GiB RAM, {platform.system()} {platform.release()}")
    out(f"load avg: {' '.join(f'{x:.2f}' for x in info['load_start'])} at start "
        "(the machine may be shared: see the end)")
    out(f"versions: Python {info['python']}, tagger {v['tagger']} (git {info['git'] or '?'}), "
        f"tensorflow {v['tensorflow']}, keras {v['keras']}, numpy {v['numpy']}, "
        f"librosa {v['librosa']}, soundfile {v['soundfile']} (libsndfile "
        f"{info['libsndfile']}), soxr {v['soxr']}, imageio-ffmpeg {v['imageio-ffmpeg']} "
        f"({ffmpeg_version.split(' Copyright')[0]}), mutagen {v['mutagen']}, "
        f"sqlite-utils {v['sqlite-utils']}")
    if info["env"]:
        out("env:      " + " ".join(f"{k}={val}" for k, val in info["env"].items()))
    out(f"jobs:     {jobs} (decode pool of the ceiling and tagger scan --jobs); "
        "the peer runs in one process")
    out(f"network:  tagger scan --precision {PRECISION} (this CPU has native bfloat16: "
        f"{'yes' if info['native_bfloat16'] else 'no'}); the peer runs float32")
    return info


def use_code(rev: str | None, dest: Path) -> str | None:
    """Put the code under test in ``dest`` (commit ``rev``, or a copy of the
    working tree's tagger/ and models/, so that edits made while the benchmark
    runs do not change what it measures), make every tagger import, here and
    in the processes started from here, come from it, and check that from a
    child process. Returns the short hash of rev, or None for the working tree."""
    commit = exported.export(rev, dest)
    exported.use_in_process(dest)
    seen = exported.verify(dest, dict(os.environ))
    log(f"code under test: {commit or 'working tree'}, tagger from {seen['tagger']}, "
        f"model {seen['model_dir']}")
    return commit


# -- the files -----------------------------------------------------------------

def gtzan_clips(gtzan: Path, per_genre: int) -> list[str]:
    """The clips set's roots, read in place: the first ``per_genre`` clips of
    each genre folder, or the whole gtzan-dev folder when per_genre is 0."""
    if not per_genre:
        return [str(gtzan)]
    roots = []
    for genre in sorted(p for p in gtzan.iterdir() if p.is_dir()):
        roots += [str(p) for p in sorted(genre.glob("*.ogg"))[:per_genre]]
    return roots


def audio_seconds(paths: list[str]) -> float:
    """Their length in s, as their headers give it (mutagen)."""
    import mutagen

    def length(path: str) -> float:
        audio = mutagen.File(path)
        return audio.info.length if audio is not None else 0.0

    return sum(length(p) for p in paths)


def make_large(root: Path, corpus_dir: Path, tracks: list[str], clips: list[str]) -> Path:
    """COPIES copies of (tracks + clips) under other names in ``root``: hard
    links to the corpus's own files, symbolic links to the clips (read in place)."""
    shutil.rmtree(root, ignore_errors=True)
    tracks_root = corpus_dir / "tracks"
    for i in range(COPIES):
        copy = root / f"copy-{i:02d}"
        for p in tracks:
            dst = copy / "tracks" / Path(p).relative_to(tracks_root)
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(p, dst)
            except OSError:
                shutil.copyfile(p, dst)
        for p in clips:
            dst = copy / "clips" / Path(p).parent.name / Path(p).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(p, dst)
    return root


# -- one tagger scan -------------------------------------------------------------

def tagger_cmd() -> list[str]:
    exe = shutil.which("tagger")
    return [exe] if exe else [sys.executable, "-c", "from tagger.cli import app; app()"]


SUMMARY = re.compile(r"(\d+) files found: (\d+) analysed, (\d+) from cache, (\d+) failed")
TIME = re.compile(r"Time: ([\d.]+) s")


PRECISION = "auto"  # tagger scan --precision, from --precision


def scan(roots: list[str], db: Path, jobs: int, fast: bool = False,
         report: Path | None = None, env: dict | None = None) -> dict:
    """Run ``tagger scan`` as a user would, timed and memory-sampled, in
    ``env`` (default: this process's environment)."""
    cmd = tagger_cmd() + ["scan", *roots, "--db", str(db), "--jobs", str(jobs), "-q"]
    if PRECISION != "auto":  # the option's default; commits before fc5c018 lack it
        cmd += ["--precision", PRECISION]
    if fast:
        cmd.append("--fast")
    if report is not None:
        cmd += ["--report", str(report)]
    m = run_measured(cmd, env=env)
    res = _summary(m)
    if report is not None and report.is_file():
        res["top"] = top_genres(report)
    if m.returncode not in (0, 1) or res.get("found") is None:
        log(f"tagger scan exited {m.returncode}: {m.stderr.strip()[-1000:]}")
    return res


def _summary(m: Measured) -> dict:
    res = {"seconds": m.seconds, "peak_rss": m.peak_rss, "peak_pss": m.peak_pss,
           "peak_procs": m.peak_procs, "returncode": m.returncode, "load": os.getloadavg()[0],
           "stdout": m.stdout.strip()[-2000:], "stderr_tail": m.stderr.strip()[-2000:]}
    s = SUMMARY.search(m.stdout)
    if s:
        res.update(zip(("found", "analysed", "cached", "failed"), map(int, s.groups())))
    t = TIME.search(m.stdout)
    if t:
        res["own_seconds"] = float(t.group(1))
    return res


def top_genres(report: Path) -> dict[str, tuple[str, float]]:
    """path -> (top genre, confidence) of every analysed file in a --report JSON."""
    records = json.loads(report.read_text())
    return {r["path"]: (r["genres"][0]["genre"], r["genres"][0]["confidence"])
            for r in records if r["status"] == "ok" and r["genres"]}


def agreement(a: dict, b: dict) -> tuple[int, int, list]:
    """(same top genre, files in both, [(path, a's, b's)] that differ), for
    two path -> (genre, confidence) dicts."""
    both = sorted(set(a) & set(b))
    diff = [(p, a[p], b[p]) for p in both if a[p][0] != b[p][0]]
    return len(both) - len(diff), len(both), diff


# -- a set of files, every step ----------------------------------------------------

def measure_set(name: str, roots: list[str], work: Path, jobs: int, fe: dict) -> dict:
    paths = files_of(roots)
    res = {"name": name, "roots": roots, "files": len(paths), "audio_s": audio_seconds(paths)}
    log(f"{name}: {len(paths)} files, {res['audio_s'] / 60:.1f} min of audio")

    log(f"{name}: decode + log-mel ceiling, pool of {jobs}")
    secs, audio, errors = ceiling(paths, fe, jobs)
    res["ceiling"] = {"seconds": secs, "audio_s": audio, "errors": errors,
                      "load": os.getloadavg()[0]}
    log(f"{name}: ceiling {secs:.1f} s ({len(errors)} errors)")

    db = work / f"{name}-full.db"
    log(f"{name}: cold tagger scan")
    res["full"] = scan(roots, db, jobs, report=work / f"{name}-full.json")
    log(f"{name}: cold scan {res['full']['seconds']:.1f} s")

    log(f"{name}: warm re-scan")
    res["warm"] = scan(roots, db, jobs)
    log(f"{name}: warm re-scan {res['warm']['seconds']:.2f} s")

    log(f"{name}: cold tagger scan --fast")
    res["fast"] = scan(roots, work / f"{name}-fast.db", jobs, fast=True,
                       report=work / f"{name}-fast.json")
    log(f"{name}: cold --fast scan {res['fast']['seconds']:.1f} s")

    log(f"{name}: peer reference (one network call per 3 s chunk)")
    peer_report = work / f"{name}-peer.json"
    m = run_measured([sys.executable, str(HERE / "peer.py"), "--report", str(peer_report), *roots])
    res["peer"] = {"seconds": m.seconds, "peak_rss": m.peak_rss, "peak_pss": m.peak_pss,
                   "returncode": m.returncode, "load": os.getloadavg()[0]}
    if peer_report.is_file():
        rep = json.loads(peer_report.read_text())
        res["peer"].update({k: v for k, v in rep.items() if k != "tracks"})
        res["peer"]["top"] = {t["path"]: (t["genre"], t["confidence"]) for t in rep["tracks"]}
    else:
        log(f"peer failed: {m.stderr.strip()[-1000:]}")
    log(f"{name}: peer {m.seconds:.1f} s")
    res["load_end"] = os.getloadavg()
    return res


# -- printing ---------------------------------------------------------------------

def _mib(n: int | None) -> str:
    return "-" if not n else f"{n / 2**20:,.0f} MiB"


def _x(a: float | None, b: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if not a or not b else fmt.format(a / b)


def _rt(audio: float, secs: float) -> str:
    return f"{secs:,.1f} s ({audio / secs:,.0f}x real time)" if secs else "-"


def print_corpus(out: Printer, entries, sets: list[dict], gtzan: Path) -> None:
    out()
    out("corpus")
    by_fmt: dict[str, list] = {}
    for e in entries:
        by_fmt.setdefault(e.format, []).append(e)
    out(f"  {'set':8}{'format':8}{'files':>6}{'minutes':>9}  source")
    for fmt, es in by_fmt.items():
        pkgs = sorted({e.package + ("" if not e.transcoded else " -> ffmpeg") for e in es})
        out(f"  {'tracks':8}{fmt:8}{len(es):>6}{sum(e.seconds for e in es) / 60:>9.1f}  "
            + ", ".join(pkgs))
    for s in sets:
        if s["name"] == "clips":
            out(f"  {'clips':8}{'ogg':8}{s['files']:>6}{s['audio_s'] / 60:>9.1f}  "
                f"gtzan-dev, read in place ({gtzan})")
    total_files = sum(s["files"] for s in sets)
    total_min = sum(s["audio_s"] for s in sets) / 60
    out(f"  {'total':16}{total_files:>6}{total_min:>9.1f}")


def print_figures(out: Printer, sets: list[dict], memory: dict) -> None:
    out()
    w = 34
    out("figures".ljust(w) + "".join(
        f"{s['name']} ({s['files']} files, {s['audio_s'] / 60:.0f} min)".ljust(w) for s in sets))

    def row(label: str, fn) -> None:
        out(("  " + label).ljust(w) + "".join(str(fn(s)).ljust(w) for s in sets))

    row("decode+log-mel ceiling", lambda s: _rt(s["audio_s"], s["ceiling"]["seconds"]))
    row("cold tagger scan", lambda s: _rt(s["audio_s"], s["full"]["seconds"]))
    row("  tagger's own timer", lambda s: f"{s['full'].get('own_seconds', 0):.1f} s")
    row("cold tagger scan --fast", lambda s: _rt(s["audio_s"], s["fast"]["seconds"]))
    row("warm re-scan (start-up incl.)", lambda s: f"{s['warm']['seconds']:.2f} s = "
        f"{s['files'] / s['warm']['seconds']:,.0f} files/s")
    row("peer: 1 call per 3 s chunk", lambda s: _rt(s["audio_s"], s["peer"]["seconds"]))
    row("  peer start-up / decode / net", lambda s: f"{s['peer'].get('startup_s', 0):.1f} / "
        f"{s['peer'].get('decode_s', 0):.1f} / {s['peer'].get('network_s', 0):.1f} s")
    row("  peer ms per chunk graph/eager", lambda s: f"{s['peer'].get('network_ms_per_chunk')} / "
        f"{s['peer'].get('eager_ms_per_chunk')}")
    row("peak RSS / PSS, cold scan", lambda s: f"{_mib(s['full']['peak_rss'])} / "
        f"{_mib(s['full']['peak_pss'])}")
    row("peak RSS / PSS, --fast", lambda s: f"{_mib(s['fast']['peak_rss'])} / "
        f"{_mib(s['fast']['peak_pss'])}")
    row("peak RSS / PSS, peer", lambda s: f"{_mib(s['peer']['peak_rss'])} / "
        f"{_mib(s['peer']['peak_pss'])}")
    row("load avg ceil/full/fast/peer", lambda s: " / ".join(
        f"{s[k]['load']:.1f}" for k in ("ceiling", "full", "fast", "peer")))
    row("failed files full/fast/peer", lambda s: f"{s['full'].get('failed', '?')} / "
        f"{s['fast'].get('failed', '?')} / {len(s['peer'].get('errors', []))}")

    small, large = memory["small"], memory["large"]
    out()
    out("memory in library size (cold tagger scan --fast, fresh db)")
    for label, r in (("small", small), ("large", large)):
        out(f"  {label:6}{r['files']:>6} files: peak RSS {_mib(r['scan']['peak_rss'])}, "
            f"PSS {_mib(r['scan']['peak_pss'])}, {r['scan']['peak_procs']} processes, "
            f"{r['scan']['seconds']:.1f} s")
    warm = memory["warm"]
    out(f"  warm re-scan of the large library: {warm['seconds']:.2f} s = "
        f"{large['files'] / warm['seconds']:,.0f} files/s (tagger's own timer "
        f"{warm.get('own_seconds', 0):.2f} s), peak RSS {_mib(warm['peak_rss'])}")


def ratios(sets: list[dict], memory: dict) -> dict:
    by = {s["name"]: s for s in sets}
    main = by.get("tracks") or sets[0]
    r = {}
    r["ceiling_ratio"] = main["ceiling"]["seconds"] / main["full"]["seconds"]
    r["fast_speedup"] = main["full"]["seconds"] / main["fast"]["seconds"]
    same, n, diff = agreement(main["full"].get("top", {}), main["fast"].get("top", {}))
    r["fast_agreement"] = (same, n, diff)
    r["warm_rate"] = memory["large"]["files"] / memory["warm"]["seconds"]
    r["memory_ratio"] = memory["large"]["scan"]["peak_rss"] / memory["small"]["scan"]["peak_rss"]
    r["peer_speedup"] = main["peer"]["seconds"] / main["full"]["seconds"]
    return r


def print_ratios(out: Printer, sets: list[dict], memory: dict) -> dict:
    r = ratios(sets, memory)
    main = next((s for s in sets if s["name"] == "tracks"), sets[0])
    same, n, diff = r["fast_agreement"]
    out()
    out(f"ratios, on the {main['name']} set unless said ({'measured':>12}   target)")
    rows = [
        ("ceiling time / full scan time", f"{r['ceiling_ratio']:.2f}", "ceiling_ratio"),
        ("full scan time / --fast scan time", f"{r['fast_speedup']:.1f}x", "fast_speedup"),
        ("--fast top genre = full top genre",
         f"{same / n:.0%} ({same}/{n})" if n else "-", "fast_agreement"),
        ("warm re-scan, large library", f"{r['warm_rate']:,.0f} files/s", "warm_rate"),
        ("peak RSS large / small library", f"{r['memory_ratio']:.2f}", "memory_ratio"),
        ("peer time / full scan time", f"{r['peer_speedup']:.2f}x", "peer_speedup"),
    ]
    for label, value, key in rows:
        out(f"  {label:40}{value:>18}   {TARGETS[key]}")
    for s in sets:
        if s is main:
            continue
        a, b, _ = agreement(s["full"].get("top", {}), s["fast"].get("top", {}))
        out(f"  {s['name']}: ceiling/full {s['ceiling']['seconds'] / s['full']['seconds']:.2f}, "
            f"full/fast {s['full']['seconds'] / s['fast']['seconds']:.1f}x, "
            f"peer/full {s['peer']['seconds'] / s['full']['seconds']:.2f}x, "
            f"fast = full top genre {a}/{b}")
    for s in sets:
        a, b, _ = agreement(s["full"].get("top", {}), s["peer"].get("top", {}))
        out(f"  {s['name']}: full scan top genre = peer top genre on {a}/{b} files")
    if diff:
        out(f"  --fast differs from the full scan on ({main['name']}):")
        for path, full, fast in diff:
            out(f"    {Path(path).name}: full {full[0]} ({full[1]:.0%}), "
                f"--fast {fast[0]} ({fast[1]:.0%})")
    return r


# -- main ---------------------------------------------------------------------------

def exclusive(corpus_dir: Path):
    """Hold a lock beside the corpus for the whole run: two runs at once on
    2 cores would each measure the other."""
    import fcntl

    corpus_dir.mkdir(parents=True, exist_ok=True)
    handle = open(corpus_dir / ".benchmark.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        raise SystemExit(f"Error: another benchmark run ({handle.read().strip() or 'unknown'}) "
                         f"holds {handle.name}; two runs at once would measure neither")
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}, started {time.strftime('%H:%M:%S')}\n")
    handle.flush()
    return handle


def shared_options(parser: argparse.ArgumentParser) -> None:
    """The options run.py and compare.py share: corpus, jobs, precision, results."""
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="corpus folder (default: benchmarks/corpus, git-ignored; "
                             "built on first use)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="tagger scan --jobs and the ceiling's pool (default: all cores)")
    parser.add_argument("--quick", action="store_true",
                        help="a small subset (the shortest track of each format; run.py: "
                             f"{QUICK_CLIPS_PER_GENRE} clips per genre): a smoke run")
    parser.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto",
                        help="tagger scan --precision (default auto, as a user runs it)")
    parser.add_argument("--results", type=Path, default=None,
                        help="where to keep exported code, databases, reports and output "
                             "(default: benchmarks/results/<date-time>)")


def start(args: argparse.Namespace, name: str = "") -> tuple[Path, Path, object]:
    """Apply the shared options: --precision for every scan, the lock beside
    the corpus (held while the returned handle lives), the results folder.
    Returns (corpus folder, results folder, lock)."""
    global PRECISION
    PRECISION = args.precision
    corpus_dir = args.corpus.resolve()
    lock = exclusive(corpus_dir)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    work = (args.results or HERE / "results" / (name + stamp + ("-quick" if args.quick else "")))
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    # Every process started from here runs in the results folder: from the
    # repository's root, the decode workers of an exported commit imported
    # the checkout's tagger/ (the current directory is on their sys.path),
    # and an old commit's workers then failed every file.
    os.chdir(work)
    return corpus_dir, work, lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure tagger scan against the decode ceiling and the peer reference.")
    shared_options(parser)
    parser.add_argument("--gtzan", type=Path, default=DEFAULT_GTZAN,
                        help="gtzan-dev folder, read in place (default: %(default)s)")
    parser.add_argument("--clips-per-genre", type=int, default=None,
                        help=f"gtzan-dev clips per genre, 0 = all (default {CLIPS_PER_GENRE}, "
                             f"{QUICK_CLIPS_PER_GENRE} with --quick)")
    parser.add_argument("--rev", default=None,
                        help="benchmark this git commit (exported with git archive) instead of "
                             "a copy of the working tree's tagger/ and models/")
    args = parser.parse_args(argv)
    corpus_dir, work, _lock = start(args)  # the lock is held until main ends
    started = time.perf_counter()
    rev = use_code(args.rev, work / "src")

    out = Printer()
    info = header(out, args.jobs, corpus_dir, args.quick, rev)

    log(f"building the corpus in {corpus_dir}")
    entries = corpus_mod.build(corpus_dir, quick=args.quick, jobs=args.jobs,
                               say=lambda m: log(m.strip()))
    tracks = files_of([str(corpus_dir / e.path) for e in entries])

    fe = default_frontend()

    set_roots = [("tracks", tracks)]
    if args.gtzan.is_dir():
        per_genre = args.clips_per_genre
        if per_genre is None:
            per_genre = QUICK_CLIPS_PER_GENRE if args.quick else CLIPS_PER_GENRE
        set_roots.append(("clips", gtzan_clips(args.gtzan.resolve(), per_genre)))
    else:
        log(f"no gtzan-dev folder at {args.gtzan}: the clips set is left out")
    sets = [measure_set(name, roots, work, args.jobs, fe) for name, roots in set_roots]

    clips = files_of(set_roots[1][1]) if len(set_roots) > 1 else []
    large_root = make_large(work / "library-x10", corpus_dir, tracks, clips)
    small_root = large_root / "copy-00"
    memory = {}
    for label, root in (("small", small_root), ("large", large_root)):
        n = len(files_of([str(root)]))
        log(f"memory: cold --fast scan of the {label} library ({n} files)")
        memory[label] = {"files": n, "scan": scan([str(root)], work / f"{label}-fast.db",
                                                  args.jobs, fast=True)}
        log(f"memory: {label} {memory[label]['scan']['seconds']:.1f} s, "
            f"peak RSS {_mib(memory[label]['scan']['peak_rss'])}")
    log("warm re-scan of the large library")
    memory["warm"] = scan([str(large_root)], work / "large-fast.db", args.jobs)

    print_corpus(out, entries, sets, args.gtzan)
    print_figures(out, sets, memory)
    r = print_ratios(out, sets, memory)
    elapsed = time.perf_counter() - started
    out()
    out(f"load avg at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"benchmark wall time {elapsed / 60:.1f} min; details in {work}")

    (work / "output.txt").write_text("\n".join(out.lines) + "\n")
    (work / "results.json").write_text(json.dumps({
        "info": info, "corpus": [asdict(e) for e in entries], "sets": sets, "memory": memory,
        "ratios": {k: v for k, v in r.items() if k != "fast_agreement"},
        "fast_agreement": {"same": r["fast_agreement"][0], "of": r["fast_agreement"][1],
                           "differ": r["fast_agreement"][2]},
        "wall_seconds": elapsed}, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
