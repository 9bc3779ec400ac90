"""scan(): library -> cache -> decode workers -> model -> cache, yielding results.

TensorFlow is loaded only when some file needs analysing, while the decode
workers start on the first files, so a re-scan of an unchanged library never
pays for it.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numpy as np

from .store.cache import Cache, TrackResult, fingerprint
from .constants import BATCH_CHUNKS, DEFAULT_MODEL_DIR, DEFAULT_TIMEOUT
from .errors import TaggerError
from .audio.features import Chunked, FrontEnd, chunked
from .library import Track, walk
from .model.card import model_id, read_metadata
from .audio.analysis import Decoded
from .audio.workers import DecodePool

if TYPE_CHECKING:
    from .cluster.driver import ClusterOptions
    from .training.dataset import Dataset

FAST_WINDOWS = 6  # windows --fast decodes per track (4 agreed with the full scan on 85 % of 40 real tracks)


@dataclass
class ScanOptions:
    model_dir: str | os.PathLike = DEFAULT_MODEL_DIR
    jobs: int | None = None  # decode processes; None = all cores
    device: str = "auto"
    precision: str = "auto"  # device.PRECISIONS: bfloat16 where the CPU has it natively
    force: bool = False  # analyse again even when cached
    fast: bool = False
    follow_symlinks: bool = False
    timeout: float = DEFAULT_TIMEOUT
    verbose: bool = False
    cluster: "ClusterOptions | None" = None  # run decoding and the network on Ray


@dataclass
class ScanStats:
    found: int = 0
    analysed: int = 0
    cached: int = 0
    failed: int = 0
    audio_seconds: float = 0.0
    cluster: str | None = None  # the Ray cluster's nodes and resources, when one ran the scan
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class Scan:
    """One scan. Iterate it for results (cached ones first, then the rest
    as they finish); ``tracks`` and ``stats`` are filled as it goes."""

    def __init__(self, roots: Iterable[str | os.PathLike], cache: Cache,
                 options: ScanOptions | None = None,
                 on_found: Callable[[int], None] | None = None):
        # Absolute paths: the cache knows a file by its path, whichever
        # folder the scan was started from or how the path was typed.
        self.roots = [os.path.abspath(os.fspath(r)) for r in roots]
        self.cache = cache
        self.options = options or ScanOptions()
        self.stats = ScanStats()
        self.on_found = on_found
        self.meta = read_metadata(self.options.model_dir)
        self.model_id = model_id(self.options.model_dir)
        self.frontend = FrontEnd.from_dict(self.meta["frontend"])
        self.tracks: list[Track] = []
        self._walk_errors: list[TrackResult] = []

    def __iter__(self) -> Iterator[TrackResult]:
        self.tracks = list(walk(self.roots, self.options.follow_symlinks, self._walk_error))
        self.stats.found = len(self.tracks) + len(self._walk_errors)
        if self.on_found:
            self.on_found(self.stats.found)
        for result in self._walk_errors:
            yield self._count(result)
        known = {} if self.options.force else self.cache.known(self.model_id)
        hits = [t.path for t in self.tracks if known.get(t.path) == (t.size, t.mtime_ns)]
        for result in self.cache.results(hits):
            yield self._count(result)
        hit_set = set(hits)
        todo: dict[str, tuple[Track, str | None]] = {}
        for track in self.tracks:
            if track.path in hit_set:
                continue
            try:
                fp = fingerprint(track.path, track.size)
            except OSError as e:
                yield self._count(self._fail(track, None, e.strerror or str(e)))
                continue
            moved = None if self.options.force else self.cache.find_moved(fp, track.size, self.model_id)
            if moved is not None:
                old_path, moved.path = moved.path, track.path
                self.cache.store(moved, track.size, track.mtime_ns, fp, self.model_id)
                self.cache.forget(old_path)
                yield self._count(moved)
                continue
            todo[track.path] = (track, fp)
        if todo:
            yield from self._analyse(todo)

    # -- analysis --------------------------------------------------------------

    def _analyse(self, todo: dict[str, tuple[Track, str | None]]) -> Iterator[TrackResult]:
        opts = self.options
        if opts.cluster is not None:
            from .cluster.driver import classify as on_cluster

            def info(cluster) -> None:
                self.stats.cluster = str(cluster)

            items = on_cluster(list(todo), self.frontend, opts, opts.cluster, on_info=info)
        else:
            items = classify(list(todo), self.frontend, opts)
        for item, pred in items:
            track, fp = todo[item.path]
            if pred is None:
                yield self._count(self._fail(track, fp, item.error))
                continue
            result = TrackResult(item.path, "ok", pred.genres, None, item.duration,
                                 item.current_genres, False, pred.distribution,
                                 album=item.album, unsure=pred.unsure)
            self.cache.store(result, track.size, track.mtime_ns, fp, self.model_id,
                             pred.embedding)
            if item.duration:
                self.stats.audio_seconds += item.duration
            yield self._count(result)

    # -- bookkeeping -----------------------------------------------------------

    def _fail(self, track: Track, fp: str | None, reason: str) -> TrackResult:
        result = TrackResult(track.path, "error", error=reason)
        self.cache.store(result, track.size, track.mtime_ns, fp, self.model_id)
        return result

    def _walk_error(self, path: str, reason: str) -> None:
        self._walk_errors.append(TrackResult(path, "error", error=reason))

    def _count(self, result: TrackResult) -> TrackResult:
        if result.status != "ok":
            self.stats.failed += 1
        elif result.from_cache:
            self.stats.cached += 1
        else:
            self.stats.analysed += 1
        return result


@contextlib.contextmanager
def decoding(paths: list[str], fe: FrontEnd, jobs: int | None = None,
             timeout: float = DEFAULT_TIMEOUT, fast: bool = False, verbose: bool = False
             ) -> Iterator[Iterator[tuple[Decoded, Chunked | None]]]:
    """The decode pool, started on ``paths`` as the block is entered, so it
    decodes while the caller gets ready (classify loads the model); gives
    (Decoded, Chunked) per path in completion order, Chunked None when the
    file failed (Decoded.error says why). The pool stops when the block ends."""
    with DecodePool(fe, jobs, timeout, verbose) as pool:
        yield _chunked(pool.imap(_tasks(paths, fast)), fe, fast)


def decode_chunks(paths: list[str], fe: FrontEnd, jobs: int | None = None,
                  timeout: float = DEFAULT_TIMEOUT, fast: bool = False, verbose: bool = False
                  ) -> Iterator[tuple[Decoded, Chunked | None]]:
    """Decode in the worker pool and chunk: ``decoding``'s items as a generator."""
    with decoding(paths, fe, jobs, timeout, fast, verbose) as items:
        yield from items


def _tasks(paths: list[str], fast: bool):
    return ((p, FAST_WINDOWS if fast else None) for p in paths)


def _chunked(decoded: Iterable[Decoded], fe: FrontEnd, fast: bool
             ) -> Iterator[tuple[Decoded, Chunked | None]]:
    for item in decoded:
        if item.error is not None:
            yield item, None
        else:
            # --fast windows were joined end to end: cut them without overlap.
            yield item, chunked(item.spec, fe, fe.chunk_frames if fast else None)


def batches(items: Iterable[tuple[Decoded, Chunked | None]], min_chunks: int = BATCH_CHUNKS):
    """Group decoded tracks so that one network call sees at least
    ``min_chunks`` chunks (several short tracks, or one long one). Failed
    tracks pass through alone, as [(Decoded, None)]."""
    group, size = [], 0
    for item, c in items:
        if c is None:
            yield [(item, None)]
            continue
        group.append((item, c))
        size += len(c)
        if size >= min_chunks:
            yield group
            group, size = [], 0
    if group:
        yield group


def classify(paths: list[str], fe: FrontEnd, options: ScanOptions, model=None):
    """(Decoded, Prediction or None) for each path, in completion order. The
    model loads while the workers decode the first tracks."""
    import threading

    from .model.inference import GenreModel
    from .model.tfruntime import import_tensorflow

    if model is None:
        # TensorFlow's import (seconds) runs while the pool starts.
        threading.Thread(target=import_tensorflow, args=(options.verbose,), daemon=True).start()
    with decoding(paths, fe, options.jobs, options.timeout, options.fast,
                  options.verbose) as items:
        if model is None:
            model = GenreModel(options.model_dir, options.device, options.verbose,
                               options.precision)
        yield from _predict_chunked(model, items)


def predict(model, decoded: Iterable[Decoded], fe: FrontEnd, fast: bool):
    """(Decoded, Prediction or None) for each decoded track, in order: chunks
    grouped into network calls of at least BATCH_CHUNKS. The local scan and a
    cluster's network actors (cluster.py) both run this."""
    yield from _predict_chunked(model, _chunked(decoded, fe, fast))


def _predict_chunked(model, items: Iterable[tuple[Decoded, Chunked | None]]):
    for group in batches(items):
        if group[0][1] is None:
            yield group[0][0], None
            continue
        for (item, _), pred in zip(group, model.predict_tracks([c for _, c in group])):
            yield item, pred


def model_probs(model_dir: str | os.PathLike, data: Dataset, jobs: int | None, device: str,
                say=print, precision: str = "auto"
                ) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Per-track probabilities of a saved model over a labelled dataset,
    in the model's label order, and its "unsure" verdicts; tracks that fail
    to decode are left out."""
    from .training.dataset import Dataset

    meta = read_metadata(model_dir)
    missing = sorted(set(data.labels) - set(meta["labels"]))
    if missing:
        raise TaggerError(f"the model does not know the label(s) {', '.join(missing)}", model_dir)
    order = {p: i for i, p in enumerate(data.paths)}
    got: dict[int, np.ndarray] = {}
    unsure: dict[int, bool] = {}
    options = ScanOptions(model_dir=model_dir, jobs=jobs, device=device, precision=precision)
    for item, pred in classify(data.paths, FrontEnd.from_dict(meta["frontend"]), options):
        if pred is None:
            say(f"skipped {item.path}: {item.error}")
            continue
        got[order[item.path]] = np.array([pred.distribution[lab] for lab in meta["labels"]])
        unsure[order[item.path]] = pred.unsure
    keep = sorted(got)
    sub = data.subset(keep)
    remap = np.array([meta["labels"].index(data.labels[v]) for v in sub.y])
    return (Dataset(sub.paths, remap, list(meta["labels"]), sub.sources, sub.groups),
            np.array([got[i] for i in keep]), np.array([unsure[i] for i in keep], dtype=bool))


def order_like(results: list[TrackResult], scan: Scan) -> list[TrackResult]:
    """Results in the library's walk order (walk errors first)."""
    rank = {t.path: i for i, t in enumerate(scan.tracks)}
    return sorted(results, key=lambda r: rank.get(r.path, -1))
