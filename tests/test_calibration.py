"""tagger.training.calibration: the default write threshold and the distance limit
from cross-validated predictions."""

import numpy as np


def test_calibrate_picks_the_lowest_threshold_right_often_enough_on_every_source():
    from tagger.training.dataset import Dataset
    from tagger.training.calibration import calibrate
    from tagger.model.inference import STEADY_DB

    # Source "a": always right. Source "b": right above 0.7, wrong below.
    conf = np.array([0.95, 0.9, 0.8, 0.6, 0.5] * 2 + [0.9, 0.85, 0.8, 0.75, 0.72, 0.65, 0.55, 0.4])
    y = np.zeros(len(conf), int)
    pred_right = np.array([True] * 10 + [True] * 5 + [False] * 3)
    probs = np.stack([np.where(pred_right, conf, 1 - conf), np.where(pred_right, 1 - conf, conf)], 1)
    data = Dataset([str(i) for i in range(len(y))], y, ["x", "y"], ["a"] * 10 + ["b"] * 8)
    got = calibrate(data, probs, np.full(len(y), np.nan))  # cnn / crnn: no distance
    # The steadiness limit is not fitted: every rule carries it.
    assert got == {"min_confidence": 0.7, "max_distance": None, "min_variation": STEADY_DB,
                   "max_genre_distance": None, "max_tag_distance": None}
    # A track far from the others is left out of the writes it is judged by.
    distance = np.ones(len(y))
    distance[-3] = 50.0  # the wrong one at 0.65: beyond the 97.5th percentile
    got = calibrate(data, probs, distance)
    assert got["max_distance"] < 50 and got["min_confidence"] == 0.6


def test_per_genre_limits_are_quantiles_of_the_tracks_given_each_genre():
    """A genre given to enough CV tracks gets the quantile of theirs; one
    given to too few, the quantile over all tracks."""
    from tagger.training.calibration import GENRE_MIN_TRACKS, per_genre_limit

    genre = np.array([0] * 20 + [1] * 20 + [2] * (GENRE_MIN_TRACKS - 1))
    values = np.concatenate([np.linspace(0, 1, 20), np.linspace(0, 10, 20),
                             np.full(GENRE_MIN_TRACKS - 1, 100.0)])
    got = per_genre_limit(values, genre, 4, 0.9)
    assert got[0] == round(float(np.quantile(values[:20], 0.9)), 4)
    assert got[1] == round(float(np.quantile(values[20:40], 0.9)), 4)
    assert got[2] == got[3] == round(float(np.quantile(values, 0.9)), 4)


def test_calibrate_sets_per_genre_limits_and_judges_the_threshold_without_tracks_beyond():
    """Wrong tracks that lie far from the genre they were given are beyond
    its limit: unsure already, so a lower threshold writes right often enough."""
    from tagger.training.calibration import calibrate
    from tagger.training.dataset import Dataset

    rng = np.random.default_rng(0)
    n = 40
    y = np.repeat([0, 1], n // 2)
    conf = rng.uniform(0.5, 1.0, n)
    wrong = np.zeros(n, bool)
    wrong[[0, 1, 2, 20, 21, 22]] = True  # confident but wrong, and far from their genre
    conf[wrong] = 0.97
    pred = np.where(wrong, 1 - y, y)
    probs = np.zeros((n, 2))
    probs[np.arange(n), pred], probs[np.arange(n), 1 - pred] = conf, 1 - conf
    data = Dataset([str(i) for i in range(n)], y, ["x", "y"])
    near = np.ones(n)
    genre_distance = np.where(wrong, 9.0, rng.uniform(1, 2, n))
    without = calibrate(data, probs, near)
    assert without["min_confidence"] == 0.95 and without["max_genre_distance"] is None
    got = calibrate(data, probs, near, genre_distance, genre_distance, 0.8, 0.8)
    assert got["min_confidence"] == 0.3
    assert all(2 > limit > 1 for limit in got["max_genre_distance"] + got["max_tag_distance"])


def test_the_tag_profile_reads_musicnns_own_msd_tags_standardised():
    """msd_tag_layer on the penultimate layer gives the original musicnn's
    tags for the reference input (tests/data/musicnn_reference.npz, made with
    musicnn 0.1.0's own graph); the profile's tags layer standardises them
    over the training tracks, and each genre's centre is its tracks' mean."""
    from pathlib import Path

    from tagger.training.calibration import TAG_SPREAD_FLOOR, fit_tag_profile
    from tagger.training.train import msd_tag_layer

    ref = np.load(Path(__file__).parent / "data" / "musicnn_reference.npz")
    kernel, bias = msd_tag_layer()
    np.testing.assert_allclose(1 / (1 + np.exp(-(ref["penultimate"] @ kernel + bias))),
                               ref["tags"], atol=1e-4)
    rng = np.random.default_rng(0)
    emb = [rng.normal(0, 1, (3, 1706)) for _ in range(8)]  # 3 chunks a track
    y = np.array([0, 1] * 4)
    profile = fit_tag_profile(emb, y, 3, kernel, bias)
    z = np.stack([e.mean(axis=0) for e in emb]) @ profile["projection"] + profile["offset"]
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(profile["centre"][1], z[y == 1].mean(axis=0), atol=1e-4)
    assert (profile["spread"] >= TAG_SPREAD_FLOOR).all()
    np.testing.assert_array_equal(profile["centre"][2], 0)  # a genre without tracks
