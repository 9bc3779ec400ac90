"""Network cost per chunk and peak memory by batch size, on the CPU.

    python benchmarks/batch_sizes.py [--sizes 1 4 16 64] [--chunks 256] [--jit]

Each batch size runs in a fresh process (so its peak RSS is its own): the
shipped model, one compiled graph for that input shape, ``--chunks`` random
log-mel chunks pushed through it after one warm-up call. Prints ms per chunk
and the process's peak RSS. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def one(batch: int, chunks: int, jit: bool) -> dict:
    import numpy as np

    from tagger.model.inference import GenreModel

    model = GenreModel(device="cpu")
    tf, fe = model._tf, model.frontend
    spec = tf.TensorSpec((batch, fe.chunk_frames, fe.n_mels), tf.float32)
    call = tf.function(lambda x: model.network(x, training=False), input_signature=[spec],
                       jit_compile=jit)
    x = np.random.default_rng(0).random((batch, fe.chunk_frames, fe.n_mels), np.float32) * 3
    call(x).numpy()  # trace + warm-up
    calls = max(2, chunks // batch)
    start = time.perf_counter()
    for _ in range(calls):
        call(x).numpy()
    ms = (time.perf_counter() - start) / (calls * batch) * 1000
    return {"batch": batch, "jit": jit, "ms_per_chunk": round(ms, 2),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--chunks", type=int, default=256, help="chunks timed per batch size")
    parser.add_argument("--jit", action="store_true", help="also with XLA (jit_compile=True)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one-jit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.chunks, args.one_jit)))
        return 0
    print(f"load avg {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores")
    print(f"{'batch':>6} {'xla':>4} {'ms/chunk':>9} {'peak RSS':>10}")
    for jit in ([False, True] if args.jit else [False]):
        for b in args.sizes:
            cmd = [sys.executable, __file__, "--one", str(b), "--chunks", str(args.chunks)]
            if jit:
                cmd.append("--one-jit")
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            try:
                r = json.loads(line)
            except ValueError:
                print(f"{b:>6} {'yes' if jit else 'no':>4}  failed: {proc.stderr.strip()[-300:]}")
                continue
            print(f"{b:>6} {'yes' if jit else 'no':>4} {r['ms_per_chunk']:>9.2f} "
                  f"{r['peak_rss_mib']:>7} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
