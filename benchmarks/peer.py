"""The peer reference: the same musicnn network run the way the original
musicnn extractor runs it, for comparison with ``tagger scan``.

One process, one track after another: decode at 16 kHz, log-mel, cut into
non-overlapping 3 s chunks, and call the network once per chunk (no batching
across chunks or tracks). The calls go through one compiled graph
(``--call graph``, default: like the original's TF1 ``session.run`` per chunk)
or Keras eagerly (``--call eager``: a plain ``model(chunk)``). Start-up
(TensorFlow import, model load) is part of the run; run.py times the whole
process from outside.

    python benchmarks/peer.py --report peer.json ROOT_OR_FILE...

The report holds each track's top genre (the mean of its chunk probabilities,
as tagger aggregates) and the time spent in each stage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

START = time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--report", required=True, type=Path)
    parser.add_argument("--model", default=None, help="model folder (default: tagger's shipped one)")
    parser.add_argument("--call", choices=("graph", "eager"), default="graph")
    parser.add_argument("--eager-sample", type=int, default=30,
                        help="also time this many eager model(chunk) calls at the end")
    args = parser.parse_args(argv)

    import numpy as np

    from oldnames import module
    from tagger.errors import TaggerError
    from tagger.library import walk

    load_audio = module("tagger.audio.decode").load_audio
    chunked, log_mel = (getattr(module("tagger.audio.features"), n) for n in ("chunked", "log_mel"))
    GenreModel, aggregate = (getattr(module("tagger.model.inference"), n)
                             for n in ("GenreModel", "aggregate"))
    quiet_native_stderr = module("tagger.model.tfruntime").quiet_native_stderr

    model = GenreModel(args.model, device="cpu")
    fe = model.frontend
    tf = model._tf
    network = model.network
    spec_in = tf.TensorSpec((1, fe.chunk_frames, fe.n_mels), tf.float32)
    graph = tf.function(lambda x: network(x, training=False), input_signature=[spec_in])
    call = graph if args.call == "graph" else (lambda x: network(x, training=False))
    with quiet_native_stderr():
        call(np.zeros((1, fe.chunk_frames, fe.n_mels), np.float32))  # trace / build once
    startup = time.perf_counter() - START

    tracks, errors = [], []
    decode_s = network_s = 0.0
    n_chunks = 0
    last = None
    for track in walk(args.roots):
        t0 = time.perf_counter()
        try:
            y = load_audio(track.path, fe.sample_rate)
        except TaggerError as e:
            errors.append({"path": track.path, "error": e.reason})
            continue
        spec = log_mel(y, fe)
        cut = chunked(spec, fe, hop=fe.chunk_frames).take()  # (n, frames, mels), no overlap
        t1 = time.perf_counter()
        probs = np.concatenate([call(cut[i: i + 1]).numpy() for i in range(len(cut))])
        t2 = time.perf_counter()
        decode_s += t1 - t0
        network_s += t2 - t1
        n_chunks += len(cut)
        pred = aggregate(probs, model.labels)
        tracks.append({"path": track.path, "genre": pred.genres[0][0],
                       "confidence": round(pred.genres[0][1], 4),
                       "seconds": round(len(y) / fe.sample_rate, 2), "chunks": len(cut)})
        last = cut

    eager_ms = None
    if args.eager_sample and last is not None:
        sample = [last[i % len(last)][None] for i in range(args.eager_sample + 3)]
        for x in sample[:3]:  # warm-up
            network(x, training=False)
        t0 = time.perf_counter()
        for x in sample[3:]:
            network(x, training=False).numpy()
        eager_ms = (time.perf_counter() - t0) / args.eager_sample * 1000

    report = {
        "call": args.call, "tracks": tracks, "errors": errors, "chunks": n_chunks,
        "startup_s": round(startup, 3), "decode_s": round(decode_s, 3),
        "network_s": round(network_s, 3),
        "network_ms_per_chunk": round(network_s / n_chunks * 1000, 3) if n_chunks else None,
        "eager_ms_per_chunk": None if eager_ms is None else round(eager_ms, 3),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
    }
    args.report.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
