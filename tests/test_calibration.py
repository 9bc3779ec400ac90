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
    assert got == {"min_confidence": 0.7, "max_distance": None, "min_variation": STEADY_DB}
    # A track far from the others is left out of the writes it is judged by.
    distance = np.ones(len(y))
    distance[-3] = 50.0  # the wrong one at 0.65: beyond the 97.5th percentile
    got = calibrate(data, probs, distance)
    assert got["max_distance"] < 50 and got["min_confidence"] == 0.6
