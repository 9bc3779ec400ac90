"""Would an artist's other, tagged albums help with an untagged one
(issue 24, item 4)? Measured on emotify-dev, the only dev folder that names
artists and albums.

    python benchmarks/artist_context.py [--cache FILE]

Emotify's clips are split into 4 folds by album (sklearn GroupKFold): the
head is fitted (train.fit_musicnn) on every gtzan-dev clip and the Emotify
clips of the other folds, so an artist's other albums are on the training
side, as in a library where they are tagged. For the held-out clips of an
artist with such albums, the model's probabilities are multiplied by the
artist's genre counts there ((count + alpha) / (n + alpha * genres)) to the
power ``weight``, and renormalised. Prints top-1 accuracy and the writes at
the shipped threshold (confidence only; the distance limits aside) with and
without that prior. Embeddings from benchmarks/open_set.py's cache. Asserts
nothing.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from open_set import CACHE, DATA, prepared

PRIORS = ((1.0, 0.5), (1.0, 1.0), (0.5, 0.5), (0.5, 1.0))  # (alpha, weight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs=2, default=DATA, help="gtzan-dev emotify-dev")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--threshold", type=float, default=0.80)
    args = parser.parse_args()

    from sklearn.model_selection import GroupKFold

    from tagger.training.settings import Settings
    from tagger.training.train import fit_musicnn

    prep = prepared(args.data, args.cache, None)
    data, emotify = prep.data, args.data[1]
    rows = {r["file"]: r for r in csv.DictReader(open(emotify / "manifest.csv", encoding="utf-8"))}
    ours = np.flatnonzero([s == emotify.resolve().name for s in data.sources])
    row = {i: rows[Path(data.paths[i]).resolve().relative_to(emotify.resolve()).as_posix()]
           for i in ours}
    artist = np.array([row[i]["artist"] if i in row else "" for i in range(len(data.y))])
    album = np.array([f"{row[i]['artist']}/{row[i]['album']}" for i in ours])
    n_labels = len(data.labels)
    probs = np.zeros((len(data.y), n_labels))
    counts = np.full((len(data.y), n_labels), np.nan)
    for _, test in GroupKFold(4).split(ours, groups=album):
        te = ours[test]
        tr = np.setdiff1d(np.arange(len(data.y)), te)
        found = fit_musicnn(prep.subset(tr), Settings()).verdicts(prep.subset(te), "geometric")
        probs[te] = found["probs"]
        for i in te:
            other = tr[artist[tr] == artist[i]]
            if len(other):
                counts[i] = np.bincount(data.y[other], minlength=n_labels)
    known = ours[~np.isnan(counts[ours, 0])]
    genres = len(set(data.y[ours].tolist()))
    print(f"emotify-dev: {len(ours)} clips, {len(known)} of them by an artist with another "
          f"album on the training side; 4 folds by album; writes at >= {args.threshold}")

    def line(name: str, p: np.ndarray, sel: np.ndarray) -> None:
        pred, y = p[sel].argmax(axis=1), data.y[sel]
        w = p[sel].max(axis=1) >= args.threshold
        print(f"{name:44s} top-1 {np.mean(pred == y):.3f}   writes {w.mean():6.1%} of clips, "
              f"{np.mean(pred[w] == y[w]):6.1%} right")

    line("model alone (clips with artist context)", probs, known)
    for alpha, weight in PRIORS:
        p = probs.copy()
        prior = (counts[known] + alpha) / (counts[known].sum(axis=1, keepdims=True)
                                           + alpha * genres)
        p[known] = probs[known] * prior ** weight
        p[known] /= p[known].sum(axis=1, keepdims=True)
        line(f"x artist prior, alpha {alpha}, weight {weight}", p, known)
    line("model alone (clips without)", probs, np.setdiff1d(ours, known))


if __name__ == "__main__":
    main()
