"""Leave-one-genre-out over the dev folders: how often a model trained
without a genre writes a genre into that genre's music
(tagger.training.openset).

    python benchmarks/open_set.py [--data DIR ...] [--cache FILE] [--jobs N]

For each of the labels, train's recipe without it (4-fold CV, the unsure
rule calibrated on it, the head fitted on every other track), then the left
out genre's clips as a scan sees them. Prints per held-out genre the share
of its clips written by default and what they got, and the CV writes of the
model without it on the genres it knows (coverage / right per source): for
the rule before issue 24 (confidence, distance) and for train's rule, which
adds per-genre limits (calibration.calibrate); with --sweep, the means for
other quantiles of those limits. Use OMP_NUM_THREADS=1 on a busy machine:
the logistic regressions then take 82 s in all instead of many minutes.

The musicnn embeddings of the clips are computed once and kept in --cache
(default benchmarks/results/open_set/embeddings.npz, git-ignored): later
runs decode nothing. Delete it after changing the backbone or the clips.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = [Path("../shared/data/gtzan-dev"), Path("../shared/data/emotify-dev")]  # from the checkout, as network.py
CACHE = HERE / "results" / "open_set" / "embeddings.npz"


def prepared(dirs: list[Path], cache: Path, jobs: int | None):
    """The dev folders as train.Prepared, embeddings from ``cache`` when it
    holds exactly these clips (else computed and stored there)."""
    from tagger.training.dataset import load_folders
    from tagger.training.settings import Settings
    from tagger.training.train import Prepared, prepare

    data = load_folders(dirs)
    if cache.exists():
        c = np.load(cache)
        if list(c["paths"]) == data.paths:
            emb = np.split(c["emb"], np.cumsum(c["chunks"])[:-1])
            return Prepared(data, None, emb, silent=c["silent"], variation=c["variation"])
    prep = prepare(data, Settings(jobs=jobs))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, paths=np.array(prep.data.paths), emb=np.concatenate(prep.emb),
             chunks=np.array([len(e) for e in prep.emb]), silent=prep.silent,
             variation=prep.variation)
    return Prepared(prep.data, None, prep.emb, silent=prep.silent, variation=prep.variation)


def distance_only(cv, data) -> dict:
    """The rule before issue 24: confidence, distance to the nearest
    training track, steadiness, silence; no per-genre limits."""
    from tagger.training.calibration import calibrate

    return calibrate(data, cv.probs, cv.distance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", default=DATA)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep", action="store_true",
                        help="also the means under other quantiles of the per-genre limits")
    args = parser.parse_args()

    from tagger.training.openset import leave_one_genre_out, train_rule
    from tagger.training.settings import Settings

    start = time.time()
    prep = prepared(args.data, args.cache, args.jobs)
    loaded = time.time() - start
    rules = {"confidence and distance only (the rule before issue 24)": distance_only,
             "train's rule (+ distance and MSD tags per genre)": train_rule}
    sweep = {f"genre quantile {g:.2f}, tag quantile {t:.2f}": quantiles(g, t)
             for g in SWEEP for t in SWEEP} if args.sweep else {}
    found = leave_one_genre_out(prep, Settings(seed=args.seed), {**rules, **sweep},
                                say=lambda m: None)
    print(f"Leave-one-genre-out, {len(prep.data.y)} clips; seed {args.seed}; embeddings "
          f"{loaded:.0f} s, the rest {time.time() - start - loaded:.0f} s")
    for name in rules:
        held = found[name]
        sources = list(held[0].known)
        print(f"\n{name}")
        print(f"{'held out':12s} {'clips':>5s}  {'written':>7s}  {'written as':22s}  | "
              "without it, CV writes on the known genres: coverage / right")
        print(f"{'':12s} {'':5s}  {'':7s}  {'':22s}  | "
              + "  ".join(f"{s:>19s}" for s in sources))
        for h in held:
            given = ", ".join(f"{g} {n}" for g, n in list(h.written.items())[:3])
            known = "  ".join(f"{_pct(h.known[s]['coverage']):>9s} / {_pct(h.known[s]['precision']):>7s}"
                              for s in sources)
            print(f"{h.genre:12s} {h.tracks:5d}  {h.written_share:7.1%}  {given:22s}  | {known}")
        mean = {s: np.mean([h.known[s]["coverage"] for h in held]) for s in sources}
        right = {s: np.mean([h.known[s]["precision"] for h in held]) for s in sources}
        print(f"{'mean':12s} {'':5s}  {np.mean([h.written_share for h in held]):7.1%}  "
              f"{'':22s}  | " + "  ".join(f"{_pct(mean[s]):>9s} / {_pct(right[s]):>7s}"
                                          for s in sources))
    if sweep:
        print("\nthe same, other quantiles: mean written; mean CV writes, coverage / right")
    for name in sweep:
        held = found[name]
        print(f"{name}: {np.mean([h.written_share for h in held]):6.1%}; " + ", ".join(
            f"{s} {_pct(np.mean([h.known[s]['coverage'] for h in held]))} / "
            f"{_pct(np.mean([h.known[s]['precision'] for h in held]))}" for s in held[0].known))


SWEEP = (1.0, 0.95, 0.9, 0.85, 0.8)  # 1: no limit


def quantiles(genre: float, tag: float):
    """train's rule with other quantiles of the per-genre limits."""
    from tagger.training.calibration import calibrate

    return lambda cv, data: calibrate(data, cv.probs, cv.distance, cv.genre_distance,
                                      cv.tag_distance, genre, tag)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


if __name__ == "__main__":
    main()
