"""Byte-exact undo: journal bytes per written file, and write / undo times on a big WAV.

    PYTHONPATH=$PWD python benchmarks/undo_exact.py [--wav-mb 70]

For each odd-layout file of tests/tagcorpus.py and each format of
tests/audiofiles.py (tagged and bare, 1 s), a journaled write of two genres
then an undo: prints the delta the journal keeps (``write_journal.delta``, a
zlib blob) and whether the undo gave back the very bytes (SHA-256). Then a
WAV of about ``--wav-mb`` MB (tagged, so the id3 chunk sits after the audio):
the write's and the undo's wall time and the delta's size.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _sha(path: Path) -> str:
    from tagger.tags.delta import sha256_of

    return sha256_of(path).hex()


def _write(journal, run: int, path: Path, genres: list[str]) -> int:
    from tagger import tags
    from tagger.store.cache import file_state

    entry: list[int] = []
    tags.write_genres(path, genres, on_backup=lambda backup: entry.append(
        journal.record_before(run, path, tags.read_genres(path) or None, genres,
                              backup=backup)),
        on_edited=lambda delta: journal.record_after(entry[0], *file_state(path), delta))
    return entry[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wav-mb", type=float, default=70.0)
    args = parser.parse_args()

    from audiofiles import ALL_FORMATS, AudioLibrary, add_existing_tags, make_audio
    from tagcorpus import CORPUS, build
    from tagger.store.cache import Cache
    from tagger.store.journal import Journal
    from tagger.writing.undo import undo

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        cache = Cache(folder / "cache.db")
        journal = Journal(cache)
        (folder / "lib").mkdir()
        library = AudioLibrary(folder / "lib")
        files = {name: build(name, folder / "corpus") for name in CORPUS}
        for name in ALL_FORMATS:
            for tagged in (True, False):
                files[f"{name} ({'tagged' if tagged else 'bare'})"] = library.copy(
                    name, folder / "formats", tagged=tagged, stem=f"{name}-{tagged}")
        run = journal.start_run({})
        before = {name: _sha(path) for name, path in files.items()}
        sizes = {name: (path.stat().st_size, len(journal.db.execute(
            "select delta from write_journal where id = ?",
            [_write(journal, run, path, ["Jazz", "Blues"])]).fetchone()[0]))
            for name, path in files.items()}
        undo(journal, run)
        print(f"{'file':28} {'bytes':>9} {'delta':>7}  undo")
        for name, path in files.items():
            size, delta = sizes[name]
            same = "identical" if _sha(path) == before[name] else "NOT IDENTICAL"
            print(f"{name:28} {size:9d} {delta:7d}  {same}")
        deltas = sorted(d for _s, d in sizes.values())
        print(f"delta per written file: median {deltas[len(deltas) // 2]} B, "
              f"max {deltas[-1]} B over {len(deltas)} files")

        seconds = args.wav_mb * 1e6 / (44_100 * 2)  # 16-bit mono
        wav = make_audio(folder / "big.wav", seconds, "noise")
        add_existing_tags(wav, {"title": "Keep Me", "genre": "Rock"})
        original = _sha(wav)
        run = journal.start_run({})
        start = time.perf_counter()
        entry = _write(journal, run, wav, ["Jazz"])
        wrote = time.perf_counter() - start
        (delta,) = journal.db.execute("select delta from write_journal where id = ?",
                                      [entry]).fetchone()
        start = time.perf_counter()
        result = undo(journal, run)
        undid = time.perf_counter() - start
        print(f"{wav.stat().st_size / 1e6:.1f} MB WAV: write {wrote:.2f} s (with its delta), "
              f"delta {len(delta)} B, undo {undid:.2f} s, "
              f"{result.files[0].outcome}, identical: {_sha(wav) == original}")
        cache.close()


if __name__ == "__main__":
    main()
