"""Time tags.write_genres on long real files: ms per write and file size.

    PYTHONPATH=$PWD python benchmarks/tag_write.py [--minutes 6] [--writes 5]

Files are made by ffmpeg (tests/audiofiles.py) in a temp folder beside the
system's temp dir; each write alternates between two genres, so every one
changes the file. Run it with PYTHONPATH pointing at another tree (e.g. a
``git archive`` of main) to compare the write mechanisms on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

FORMATS = {"flac": None, "mp3": None, "m4a": "aac", "wav": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--writes", type=int, default=5)
    args = parser.parse_args()

    from audiofiles import make_audio
    from tagger import tags

    print(f"tagger from {Path(tags.__file__).parent}")
    with tempfile.TemporaryDirectory() as folder:
        for suffix, codec in FORMATS.items():
            path = make_audio(Path(folder) / f"long.{suffix}", args.minutes * 60, "drums",
                              codec=codec)
            times = []
            for i in range(args.writes):
                start = time.perf_counter()
                tags.write_genres(path, ["Jazz" if i % 2 else "Blues"])
                times.append(time.perf_counter() - start)
            size = path.stat().st_size / 1e6
            print(f"{suffix:5} {size:6.1f} MB: {statistics.median(times) * 1000:7.1f} ms "
                  f"per write (median of {args.writes}; min {min(times) * 1000:.1f})")


if __name__ == "__main__":
    main()
