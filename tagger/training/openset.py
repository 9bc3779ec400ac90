"""Leave-one-genre-out: what a model does with music of a genre it has no
label for.

For each label G, a model is made by train's own recipe (cross-validation,
the unsure rule calibrated on it, the head and reference points fitted on
every track) from the tracks of every other label; then G's tracks go
through it as a scan would. Those it writes by default (not unsure) get a
wrong genre, however near (metal -> rock counts as written): the share
written is the open-set figure of the model card. Beside it, the CV writes
of the model without G on the genres it knows: what the rule costs there."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .dataset import Dataset
from .settings import Progress, Settings
from .train import CrossValidated, Prepared, calibration_cv, fit_musicnn


@dataclass
class HeldOutGenre:
    """One genre left out of training. ``written``: its tracks a default
    write gives a genre, by the genre given; ``known``: per source, the CV
    writes (coverage, precision, written) of the model trained without it."""

    genre: str
    tracks: int
    written: dict[str, int]
    known: dict[str, dict]

    @property
    def written_share(self) -> float:
        return sum(self.written.values()) / self.tracks


Rule = Callable[[CrossValidated, Dataset], dict]  # a CV -> an unsure rule (calibrate)


def train_rule(cv: CrossValidated, data: Dataset) -> dict:
    """The rule train gives a model: CrossValidated.calibrate."""
    return cv.calibrate(data)


def leave_one_genre_out(prep: Prepared, settings: Settings, rules: dict[str, Rule] | None = None,
                        say: Progress = print) -> dict[str, list[HeldOutGenre]]:
    """For every label of ``prep`` (a musicnn Prepared, embeddings computed):
    train without it as ``train`` does, and count what the model writes
    into its tracks under each of ``rules`` (default: train's), calibrated
    on the same CV. Needs at least three labels (two to train on)."""
    rules = rules or {"train": train_rule}
    data = prep.data
    out: dict[str, list[HeldOutGenre]] = {name: [] for name in rules}
    for g, genre in enumerate(data.labels):
        held = data.y == g
        if not held.any():
            continue
        say(f"without {genre}: training on {int((~held).sum())} tracks, "
            f"holding out {int(held.sum())}")
        rest, away = prep.subset(~held), prep.subset(held)
        cv, _ = calibration_cv(rest, settings)
        found = fit_musicnn(rest, settings).verdicts(away, settings.aggregation)
        probs = found["probs"]
        verdict = CrossValidated(probs, found["distance"], away.silent, cv.folds,
                                 away.variation, found["genre_distance"], found["tag_distance"])
        for name, rule_of in rules.items():
            rule = rule_of(cv, rest.data)
            written = ~verdict.unsure(rule)
            given = Counter(data.labels[i] for i in probs.argmax(axis=1)[written])
            known = cv.scores(rest.data, rule, settings.seed)["sources"]
            out[name].append(HeldOutGenre(genre, int(held.sum()), dict(given.most_common()),
                                          {s: part["writes"] for s, part in known.items()}))
    return out
