"""tagger.model.batches: decoded tracks grouped into network calls."""

import numpy as np

from tagger.model.batches import batches


def test_batches_group_short_tracks_and_pass_failures_alone():
    from tagger.audio.features import Chunked
    from tagger.audio.analysis import Decoded

    def track(n):
        return Chunked(np.zeros((n + 1, 1)), list(range(n)), 1)

    items = [(Decoded("a"), track(30)), (Decoded("b", error="x"), None),
             (Decoded("c"), track(40)), (Decoded("d"), track(5))]
    groups = [[d.path for d, _ in g] for g in batches(items, min_chunks=64)]
    assert groups == [["b"], ["a", "c"], ["d"]]
