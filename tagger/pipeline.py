"""scan(): library -> cache -> decode workers -> model -> cache, yielding results.

TensorFlow is loaded only when some file needs analysing, while the decode
workers start on the first files, so a re-scan of an unchanged library never
pays for it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from .store.cache import Cache, TrackResult, fingerprint
from .constants import DEFAULT_MODEL_DIR, DEFAULT_TIMEOUT
from .audio.features import FrontEnd
from .library import Track, walk
from .model.card import model_id, read_card
from .audio.chunks import decoding
from .model.batches import predict_chunked

if TYPE_CHECKING:
    import numpy as np

    from .cluster.driver import ClusterOptions


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
    duplicates: int = 0  # taken from an identical file (a copy, a hard link), not decoded
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
        self.card = read_card(self.options.model_dir)
        self.model_id = model_id(self.options.model_dir)
        self.frontend = self.card.frontend
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
        # Identical files (hard links, copies) by (fingerprint, size): a
        # result taken from the cache in this scan; the path of the one being
        # analysed -> the others, which take its result.
        taken: dict[tuple[str, int], TrackResult] = {}
        first: dict[tuple[str, int], str] = {}
        twins: dict[str, list[Track]] = {}
        for track in self.tracks:
            if track.path in hit_set:
                continue
            try:
                fp = fingerprint(track.path, track.size)
            except OSError as e:
                yield self._count(self._fail(track, None, e.strerror or str(e)))
                continue
            key = (fp, track.size)
            if key in taken:
                yield self._count(self._copy(taken[key], track, fp), duplicate=True)
            elif key in first:
                if first[key] != track.path:  # a file named twice is one
                    twins[first[key]].append(track)
            elif (found := None if self.options.force else self._same_content(track, fp)):
                taken[key] = found[0]
                yield self._count(*found)
            else:
                first[key] = track.path
                twins[track.path] = []
                todo[track.path] = (track, fp)
        if todo:
            yield from self._analyse(todo, twins)

    # -- analysis --------------------------------------------------------------

    def _analyse(self, todo: dict[str, tuple[Track, str | None]],
                 twins: dict[str, list[Track]]) -> Iterator[TrackResult]:
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
            if item.error is not None:
                yield self._count(self._fail(track, fp, item.error))
                for twin in twins[item.path]:
                    yield self._count(self._fail(twin, fp, item.error))
                continue
            embedding = None
            if pred is None:  # too short to judge: a result, unsure, never written
                result = TrackResult(item.path, "ok", duration=item.duration,
                                     current_genres=item.current_genres, album=item.album,
                                     unsure=True, unsure_reason=item.unsure_reason)
            else:
                result = TrackResult(item.path, "ok", pred.genres, None, item.duration,
                                     item.current_genres, False, pred.distribution,
                                     album=item.album, unsure=pred.unsure)
                embedding = pred.embedding
            self.cache.store(result, track.size, track.mtime_ns, fp, self.model_id, embedding)
            if item.duration:
                self.stats.audio_seconds += item.duration
            yield self._count(result)
            for twin in twins[item.path]:
                yield self._count(self._copy(result, twin, fp, embedding), duplicate=True)

    # -- bookkeeping -----------------------------------------------------------

    def _same_content(self, track: Track, fp: str) -> tuple[TrackResult, bool] | None:
        """A cached result of the same content under another path, made
        ``track``'s, and whether that file is still there (a duplicate) or
        not (``track`` is it, moved or renamed: its row moves); or None."""
        moved = self.cache.find_moved(fp, track.size, self.model_id)
        if moved is not None:
            result = self._copy(moved, track, fp)
            self.cache.forget(moved.path)
            return result, False
        same = self.cache.find_identical(fp, track.size, self.model_id, track.path)
        return None if same is None else (self._copy(same, track, fp), True)

    def _copy(self, result: TrackResult, track: Track, fp: str,
              embedding: np.ndarray | None = None) -> TrackResult:
        """``result`` of an identical file, as ``track``'s own, cached with
        its embedding (``embedding``, or the cached one of ``result``'s file)."""
        copy = dataclasses.replace(result, path=track.path)
        if embedding is None:
            embedding = self.cache.embeddings({result.path: None}).get(result.path)
        self.cache.store(copy, track.size, track.mtime_ns, fp, self.model_id, embedding)
        return copy

    def _fail(self, track: Track, fp: str | None, reason: str) -> TrackResult:
        result = TrackResult(track.path, "error", error=reason)
        self.cache.store(result, track.size, track.mtime_ns, fp, self.model_id)
        return result

    def _walk_error(self, path: str, reason: str) -> None:
        self._walk_errors.append(TrackResult(path, "error", error=reason))

    def _count(self, result: TrackResult, duplicate: bool = False) -> TrackResult:
        if result.status != "ok":
            self.stats.failed += 1
        elif duplicate:
            self.stats.duplicates += 1
        elif result.from_cache:
            self.stats.cached += 1
        else:
            self.stats.analysed += 1
        return result


def classify(paths: list[str], fe: FrontEnd, options: ScanOptions, model=None):
    """(Decoded, Prediction or None) for each path, in completion order
    (None: the file failed or is too short to judge). The model loads while
    the workers decode the first tracks."""
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
        yield from predict_chunked(model, items)


def order_like(results: list[TrackResult], scan: Scan) -> list[TrackResult]:
    """Results in the library's walk order (walk errors first)."""
    rank = {t.path: i for i, t in enumerate(scan.tracks)}
    return sorted(results, key=lambda r: rank.get(r.path, -1))
