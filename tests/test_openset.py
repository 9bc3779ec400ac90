"""tagger.training.openset: leave-one-genre-out, on embeddings made up so
that one genre lies next to a tight genre the model knows."""

import numpy as np


def test_music_of_a_left_out_genre_next_to_a_known_one_is_unsure_not_written():
    """Genre "u" lies just beside the tight genre "a", much nearer than the
    loose genres "b" and "c" spread: left out, the model without it calls
    its tracks "a" with confidence and as near the training tracks as b's
    and c's own; the rule before issue 24 (confidence and distance) wrote
    all of them. Far from a's tracks for a track called "a", they are
    unsure under train's rule, while most known tracks are still written."""
    from tagger.training.calibration import calibrate
    from tagger.training.dataset import Dataset
    from tagger.training.openset import leave_one_genre_out, train_rule
    from tagger.training.settings import Settings
    from tagger.training.train import Prepared

    rng = np.random.default_rng(0)
    axes = np.linalg.qr(rng.normal(size=(1706, 8)))[0].T  # 8 orthonormal directions

    def genre(centre: np.ndarray, spread: float, n: int = 16) -> list[np.ndarray]:
        return [((centre + spread * rng.normal(size=8)) @ axes
                 + 0.01 * rng.normal(size=1706))[None].astype(np.float32) for _ in range(n)]

    a, b, c, u = np.zeros(8), 8 * np.eye(8)[0], 8 * np.eye(8)[1], 2.5 * np.eye(8)[2]
    emb = genre(a, 0.3) + genre(b, 2.0) + genre(c, 2.0) + genre(u, 0.3)
    data = Dataset([str(i) for i in range(64)], np.repeat(np.arange(4), 16), ["a", "b", "c", "u"])
    prep = Prepared(data, None, emb, silent=np.zeros(64, bool), variation=np.full(64, 5.0))
    before = lambda cv, d: calibrate(d, cv.probs, cv.distance)  # noqa: E731
    found = leave_one_genre_out(prep, Settings(), {"before": before, "train": train_rule},
                                say=lambda m: None)
    old, new = ({h.genre: h for h in found[k]} for k in ("before", "train"))
    assert old["u"].written == {"a": 16}
    assert new["u"].written == {}
    assert new["u"].known[""]["coverage"] >= 0.7 and new["u"].known[""]["precision"] == 1.0
    assert [h.genre for h in found["train"]] == ["a", "b", "c", "u"]
