"""What keeping each track's mean embedding costs a scan: prints figures.

    python benchmarks/embedding_cost.py [--chunks 159] [--repeat 20]

A scan already computes every chunk's embedding; keeping their mean for
training (issue 24) adds an output to the head's traced function, a mean
and a float16 copy per track, and a 3.4 kB blob in the track's cache row.
Timed here, interleaved and best of --repeat, for one 4-minute track (159
chunks) on the shipped model, against the network's own time for that
track (frame-wise front-end + pooling + head): the old head function (no
embedding output) and the new one on the same pooled chunks, and a cache
row stored with and without the blob.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=159, help="chunks of the track (159: 4 min)")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    from tagger.audio.features import Chunked, chunked
    from tagger.model import framewise
    from tagger.model.inference import GenreModel
    from tagger.model.network import musicnn_framewise
    from tagger.model.tfruntime import inference_function
    from tagger.store.cache import Cache, TrackResult

    model = GenreModel(precision="auto")
    fe = model.frontend
    frames = fe.chunk_frames + (args.chunks - 1) * fe.chunk_hop_frames
    spec = np.random.default_rng(0).uniform(0, 3, (frames, fe.n_mels)).astype(np.float32)
    track: Chunked = chunked(spec, fe)
    tf = model._tf
    embed = model.network.get_layer("musicnn")
    head = model.network.get_layer("genre_head")
    old = inference_function(tf, musicnn_framewise(embed, precision=model.precision)[1], head)
    pooled = framewise.pool_chunks(model._frames, track)
    with tf.device(model.device):
        for f in (old, model._heads):
            f(pooled)  # trace
        t_network = best(lambda: model.predict_tracks([track]), max(3, args.repeat // 4))
        pairs = [(best(lambda: old(pooled), 1), best(lambda: model._heads(pooled), 1))
                 for _ in range(args.repeat)]
    t_old, t_new = min(p[0] for p in pairs), min(p[1] for p in pairs)
    out = model._pooled(pooled)
    t_mean = best(lambda: out["embedding"].mean(axis=0).astype(np.float16), args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp) / "c.db")
        result = TrackResult("/x.ogg", "ok", [("rock", 0.9)], distribution={"rock": 0.9})
        vec = out["embedding"].mean(axis=0)
        rows = [(best(lambda: cache.store(result, 1, 1, "fp", "m"), 1),
                 best(lambda: cache.store(result, 1, 1, "fp", "m", vec), 1))
                for _ in range(args.repeat)]
        cache.close()
    t_row, t_row_blob = min(r[0] for r in rows), min(r[1] for r in rows)
    extra = (t_new - t_old) + t_mean + (t_row_blob - t_row)
    print(f"one {args.chunks}-chunk track, precision {model.precision}, best of {args.repeat}:")
    print(f"  network (predict_tracks, all of it) {t_network * 1e3:8.2f} ms")
    print(f"  head, without / with the embedding output {t_old * 1e3:.2f} / {t_new * 1e3:.2f} ms")
    print(f"  mean + float16 of the chunk embeddings {t_mean * 1e3:.3f} ms")
    print(f"  cache row without / with the 3.4 kB blob {t_row * 1e3:.3f} / {t_row_blob * 1e3:.3f} ms")
    print(f"  extra per track {extra * 1e3:.2f} ms = {extra / t_network:.2%} of the network's time")


if __name__ == "__main__":
    main()
