"""Cost of musicnn's frame-wise network: the whole front-end, the
live-filter network (tagger.model.network.musicnn_frames) and the same in
bfloat16 (what `tagger scan --precision auto` runs on a CPU with native
bfloat16), on the CPU.

    python benchmarks/network.py [--frames 4160] [--calls 10] [--threads N]

The networks run in this one process, in turn, on the same real log-mel
frames (gtzan-dev clips joined end to end, or generated noise when that
folder is missing), after one warm-up call each; --frames defaults to a
scan's largest call (framewise.FRAMES_PER_CALL plus context). Prints the best
and median ms per call, the ratios, and how far each network's features are
from the whole network's. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def frames_input(n: int):
    import numpy as np

    from tagger.audio.decode import load_audio
    from tagger.audio.features import log_mel
    from tagger.training.train import frontend_for

    fe = frontend_for("musicnn")
    root = Path(os.environ.get("TAGGER_GTZAN", "../shared/data/gtzan-dev"))
    specs, have = [], 0
    for path in sorted(root.glob("*/*.ogg"))[::40]:
        specs.append(log_mel(load_audio(path, fe.sample_rate), fe))
        have += len(specs[-1])
        if have >= n:
            return np.concatenate(specs)[None, :n], f"{len(specs)} gtzan-dev clips"
    rng = np.random.default_rng(0)
    return rng.uniform(0, 3, (1, n, fe.n_mels)).astype(np.float32), "generated noise"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    from tagger.model.framewise import CONTEXT, FRAMES_PER_CALL

    parser.add_argument("--frames", type=int, default=FRAMES_PER_CALL + 2 * CONTEXT,
                        help="frames per call (62.5 per second)")
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads (0: all)")
    args = parser.parse_args()

    import numpy as np

    from tagger.constants import MUSICNN_WEIGHTS
    from tagger.model.device import native_bfloat16
    from tagger.model.tfruntime import import_tensorflow

    tf = import_tensorflow()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    from tagger.model.network import musicnn_backbone, musicnn_framewise

    backbone = musicnn_backbone(96, None)
    backbone.load_weights(MUSICNN_WEIGHTS)
    nets = {name: musicnn_framewise(backbone, prune=prune, precision=precision)[0]
            for name, prune, precision in (("whole front-end", False, "float32"),
                                           ("live filters", True, "float32"),
                                           ("live, bfloat16", True, "bfloat16"))}
    x, source = frames_input(args.frames)
    calls = {name: tf.function(lambda v, net=net: net(v, training=False))
             for name, net in nets.items()}
    outputs = {name: np.asarray(call(x)) for name, call in calls.items()}  # trace + warm-up
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.calls):
        for name, call in calls.items():
            start = time.perf_counter()
            np.asarray(call(x))
            times[name].append(time.perf_counter() - start)
    print(f"musicnn frame-wise network, {args.frames} frames per call ({source}), "
          f"{args.calls} calls each, in turn, load average {os.getloadavg()[0]:.1f}; "
          f"native bfloat16: {'yes' if native_bfloat16() else 'no'}")
    whole = outputs["whole front-end"]
    for name, ts in times.items():
        params = nets[name].count_params()
        diff = np.abs(outputs[name] - whole)
        print(f"  {name:16s} best {min(ts) * 1000:7.1f} ms  median "
              f"{statistics.median(ts) * 1000:7.1f} ms  ({params:,} parameters); features vs "
              f"whole: largest difference {diff.max():.2g}, mean {diff.mean() / np.abs(whole).mean():.2%}")
    median = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"  ratios (median): live filters {median['whole front-end'] / median['live filters']:.2f}x "
          f"faster than the whole front-end; bfloat16 "
          f"{median['live filters'] / median['live, bfloat16']:.2f}x faster than float32 "
          f"(features up to {np.abs(whole).max():.3g})")


if __name__ == "__main__":
    main()
