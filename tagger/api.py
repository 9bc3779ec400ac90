"""The public API: the few functions the CLI, plugins and batch backends call.

::

    import tagger
    results = list(tagger.scan(["/data/Music"], db="cache.db"))
    plan = tagger.plan(results, tagger.WritePolicy(min_confidence=0.7, existing="overwrite"))
    run = tagger.write(plan, db="cache.db")
    tagger.undo(run.id, db="cache.db")

Results are typed all the way: ``scan`` yields ``TrackResult``, ``plan`` returns a
``Plan`` of (``TrackResult``, ``Decision``) entries, ``write`` a ``WriteRun``,
``undo`` an ``UndoResult``. ``db`` is the SQLite cache file (default: the user
cache, ``cache.default_db_path()``). Errors are ``TaggerError`` subclasses
naming the file. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .results import Action, TrackResult, WriteOutcome
from .store.cache import Cache, default_db_path
from .constants import DEFAULT_MODEL_DIR, DEFAULT_TIMEOUT
from .store.journal import Journal, interrupted
from .library import is_under
from .writing.undo import UndoResult, undo as undo_run
from .pipeline import Scan, ScanOptions, ScanStats, order_like
from .writing.config import load_config
from .writing.policy import Plan, WritePolicy
from .writing.policy import plan as _plan
from .writing.writer import Outcome, WriteRun, apply
from .writing.choices import (WRITES, Choice, Decisions, Verdict, per_file, plan_choices,
                              read_file, as_seen)
from .store.decisions import DecisionStore
from .reviewing.albums import Album, albums, to_review  # noqa: F401 (albums: the API)

if TYPE_CHECKING:
    from .cluster.driver import ClusterOptions
    from .training.fromcache import Learnt
    from .training.fromtags import TaggedFile

PathLike = str | os.PathLike


class ScanRun(Iterator[TrackResult]):
    """What ``scan`` returns: an iterator of ``TrackResult``, cached ones first,
    then the rest as they are analysed (each committed to the cache before it
    is yielded). The cache's run lock is held from the first ``next`` until the
    last result, ``close()`` or the end of a ``with`` block. ``stats`` counts
    as it goes; ``ordered(results)`` sorts results in the library's walk order.
    ``restored`` lists the files a killed ``--write`` had left mid-edit, which
    the scan first put back from their backups (see ``Journal.recover``).
    """

    def __init__(self, paths: Iterable[PathLike], db: PathLike | None, options: ScanOptions,
                 on_found: Callable[[int], None] | None,
                 on_wait: Callable[[Path], None] | None):
        self.db = Path(db) if db is not None else default_db_path()
        self._scan: Scan | None = None
        self.restored: list[str] = []
        # A generator: nothing runs, and the cache is not locked, before the first next().
        self._results = self._run(list(paths), options, on_found, on_wait)

    @property
    def stats(self) -> ScanStats:
        return self._scan.stats if self._scan is not None else ScanStats()

    def ordered(self, results: list[TrackResult]) -> list[TrackResult]:
        """``results`` in the library's walk order (files that could not be
        listed first)."""
        return order_like(results, self._scan) if self._scan is not None else list(results)

    def __next__(self) -> TrackResult:
        return next(self._results)

    def close(self) -> None:
        """Stop the scan and release the cache and its lock."""
        self._results.close()

    def __enter__(self) -> ScanRun:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, paths: list[PathLike], options: ScanOptions,
             on_found: Callable[[int], None] | None,
             on_wait: Callable[[Path], None] | None) -> Iterator[TrackResult]:
        with _locked(self.db, on_wait) as cache:
            # A file a killed write left half-written is whole again before
            # the scan reads it.
            self.restored = Journal(cache).recover() if interrupted(cache) else []
            self._scan = Scan(paths, cache, options, on_found=on_found)
            yield from self._scan


def scan(paths: Iterable[PathLike], *, db: PathLike | None = None,
         model: PathLike | None = None, jobs: int | None = None, device: str = "auto",
         precision: str = "auto", fast: bool = False, force: bool = False,
         follow_symlinks: bool = False, timeout: float = DEFAULT_TIMEOUT,
         verbose: bool = False, cluster: ClusterOptions | None = None,
         on_found: Callable[[int], None] | None = None,
         on_wait: Callable[[Path], None] | None = None) -> ScanRun:
    """Analyse the audio files under ``paths``; iterate for ``TrackResult``.

    model: model folder (default: the shipped model); jobs: decode processes
    (default: all cores); device: auto | cpu | gpu; precision: auto | float32 |
    bfloat16; fast: a few windows per track instead of all of it; force:
    analyse again files already in the cache; follow_symlinks: follow
    symlinked folders; timeout: seconds one file may take to decode;
    cluster: run decoding and the network on a Ray cluster
    (``cluster.ClusterOptions``; the results are a local scan's).
    ``on_found(n)`` is called once the library is listed; ``on_wait(db)`` when
    another tagger run holds the cache and this one waits its turn.
    """
    options = ScanOptions(model_dir=model or DEFAULT_MODEL_DIR, jobs=jobs, device=device,
                          precision=precision, force=force, fast=fast,
                          follow_symlinks=follow_symlinks, timeout=timeout, verbose=verbose,
                          cluster=cluster)
    return ScanRun(paths, db, options, on_found, on_wait)


def write_policy(config: PathLike | None = None, *, model: PathLike | None = None,
                 **overrides) -> WritePolicy:
    """The policy from the config file (default: the user's, if any), with
    non-None ``overrides`` (WritePolicy fields) winning. Without a
    ``min_confidence`` in either, the model card's calibrated threshold
    (``scores.min_confidence`` of the model's metadata), if it has one. A
    model's own ``display_names`` (a model learnt from a library's tags
    writes its labels as the library spells them) come before the config's."""
    from .model.card import read_card

    values = load_config(config)
    card = read_card(model or DEFAULT_MODEL_DIR)
    if overrides.get("min_confidence") is None and "min_confidence" not in values:
        overrides["min_confidence"] = card.min_confidence
    if card.display_names:
        values = {**values, "display_names": {**card.display_names,
                                              **values.get("display_names", {})}}
    return WritePolicy.from_config(values, **overrides)


def plan(results: Iterable[TrackResult], policy: WritePolicy, *, fresh: bool = True) -> Plan:
    """What a write would do with each result under ``policy``, in order.

    fresh: read each candidate file's genres from its tags now (default);
    False decides on the genres the results carry (as of the analysis), a
    quick preview: ``write`` reads every file again before writing anyway.
    """
    from . import tags

    return _plan(results, policy, read=tags.read_genres if fresh else None)


def write(plan: Plan, *, db: PathLike | None = None, id3v23: bool = False,
          on_file: Callable[[Outcome], None] | None = None,
          on_wait: Callable[[Path], None] | None = None) -> WriteRun:
    """Write the plan's "write" entries into the files, journalled for ``undo``.

    A file changed since it was analysed is not written; one whose genres
    changed since the plan is decided again (under the "keep" policy: left
    as it is). ``id3v23`` writes ID3v2.3 tags instead of v2.4. ``on_file`` is
    called with each file's ``Outcome``.
    """
    with _locked(db, on_wait) as cache:
        return apply(plan, cache, id3v23=id3v23, on_file=on_file)


def undo(run_id: int | None = None, *, db: PathLike | None = None,
         on_wait: Callable[[Path], None] | None = None) -> UndoResult:
    """Give the files write run ``run_id`` (default: the latest) changed their
    bytes from before it, checked by SHA-256, or, where that cannot be (an
    older journal, bytes changed unseen since), their genre fields as before
    ("not identical"); files changed since are refused, per file (see
    ``writing.undo.undo``)."""
    with _locked(db, on_wait) as cache:
        return undo_run(Journal(cache), run_id)


def retagged(files: Mapping[PathLike, Sequence[str]], *, db: PathLike | None = None,
             on_wait: Callable[[Path], None] | None = None) -> None:
    """Tell the cache that other software rewrote these files' tags, never
    their audio: ``files`` maps each path to the genres it holds now (say,
    a beets plugin after beets wrote them). Each cached file gets its new
    identity (size, modification time, fingerprint) and current genres, so
    the next scan takes its result from the cache instead of analysing it
    again. A file the cache does not hold, or that cannot be read now, is
    left alone (the next scan looks at it)."""
    with _locked(db, on_wait) as cache:
        for path, genres in files.items():
            with contextlib.suppress(OSError):  # gone or unreadable: the next scan looks
                cache.retagged(os.path.abspath(os.fspath(path)), genres)


def learn(source: Iterable[PathLike] | Iterable[TaggedFile], out: PathLike, *,
          db: PathLike | None = None, folds: int | None = None, jobs: int | None = None,
          min_tracks: int | None = None, seed: int = 0, precision: str = "auto",
          on_progress: Callable[[str], None] | None = None) -> Learnt:
    """Train a model folder ``out`` on a library's own genres, in its own
    spelling (``tagger train --from-tags``; the rules: training.fromtags).

    source: folders and files whose genre tags are the labels, or
    ``fromtags.TaggedFile`` s whose genres are given (a beets library's).
    Tracks the cache ``db`` holds from a scan are not decoded again.
    folds: the cross-validation that scores it and calibrates its unsure
    rule (default 4, at most what the genres' albums allow). Returns the
    labels taken (``labels.summary()`` says what was left out, and why), the
    CV scores and the model's metadata. Needs the ``train`` extra."""
    from .training.fromcache import train_library
    from .training.fromtags import MIN_TRACKS, TaggedFile, label_files, read_library
    from .training.settings import Settings

    source = list(source)
    min_tracks = min_tracks or MIN_TRACKS
    if all(isinstance(s, TaggedFile) for s in source):
        labels = label_files(source, min_tracks)
    else:
        labels = read_library(source, min_tracks=min_tracks)
    say = on_progress or (lambda m: None)
    for line in labels.summary():
        say(line)
    settings = Settings(jobs=jobs, seed=seed, precision=precision)
    return train_library(labels, db if db is not None else default_db_path(), out, settings,
                         folds, say)


def history(*, db: PathLike | None = None) -> list[dict]:
    """The write runs, oldest first, each with ``files_written`` and
    ``files_exact`` (those undo can give back byte for byte); see
    ``store.journal.Journal.runs``."""
    with _opened(db) as cache:
        return Journal(cache).runs()


def cached(paths: Iterable[PathLike] | None = None, *,
           db: PathLike | None = None) -> list[TrackResult]:
    """The cached results, by path, of the files under ``paths`` (default:
    all), without decoding anything."""
    with _opened(db) as cache:
        results = cache.results()
    if paths is None:
        return results
    prefixes = [os.path.abspath(os.fspath(p)) for p in paths]
    return [r for r in results if any(is_under(r.path, p) for p in prefixes)]


def decided(*, db: PathLike | None = None) -> dict[str, Choice]:
    """The decisions earlier reviews kept (``record_decisions``), by path;
    those a ``tagger undo`` took back are not among them (they are asked again)."""
    with _opened(db) as cache:
        stored = DecisionStore(cache.db, cache.path).all()
        undone = {r["id"] for r in Journal(cache).runs() if r["undone_at"]}
    return {p: Choice(d.verdict, d.genres) for p, d in stored.items() if d.run_id not in undone}


def review_albums(results: Iterable[TrackResult], policy: WritePolicy, *,
                  db: PathLike | None = None, unsure: bool = False,
                  without_genre: bool = False, differs: bool = False) -> list[Album]:
    """The albums of ``results`` a review asks about, in path order: those
    with a track not decided yet (``decided``), and, with the filters, only
    those with an unsure track, without any genre, or whose proposal differs
    from a track's genres."""
    return to_review(results, policy, decided(db=db), unsure=unsure,
                     without_genre=without_genre, differs=differs)


def record_decisions(decisions: Decisions, results: Iterable[TrackResult], *,
                     db: PathLike | None = None) -> None:
    """Keep a person's decisions on ``results``' files in the cache, to be
    written by ``write_decided``; skips are not kept (they are asked again)."""
    choices = per_file(decisions, results)
    with _opened(db) as cache:
        DecisionStore(cache.db, cache.path).record(
            {p: (c.verdict.value, c.genres) for p, c in choices.items()
             if c.verdict != Verdict.SKIP})


def write_decided(policy: WritePolicy, *, db: PathLike | None = None, id3v23: bool = False,
                  on_file: Callable[[Outcome], None] | None = None,
                  on_wait: Callable[[Path], None] | None = None) -> WriteRun:
    """Write every kept decision not written yet, in one write run (``tagger
    undo`` undoes it), on the genres the cache holds for each file (those the
    review showed). Written decisions are marked with the run; a file that
    could not be written loses its decision, so the next review asks again."""
    with _locked(db, on_wait) as cache:
        store = DecisionStore(cache.db, cache.path)
        pending = {p: Choice(d.verdict, d.genres) for p, d in store.all().items()
                   if d.run_id is None and d.verdict in WRITES}
        run = apply(plan_choices(cache.results(list(pending)), pending, policy), cache,
                    id3v23=id3v23, on_file=on_file)
        if run.id is not None:
            store.mark_written([o.path for o in run.written], run.id)
        store.forget(o.path for o in run.failed + run.skipped)
    return run


def apply_decisions(file: PathLike, policy: WritePolicy, *, db: PathLike | None = None,
                    id3v23: bool = False, on_file: Callable[[Outcome], None] | None = None,
                    on_wait: Callable[[Path], None] | None = None) -> WriteRun:
    """Write exactly the decisions of a decisions file (the review page's
    export, ``choices.read_file``) in one write run. A file is refused when
    the cache does not hold it, when it changed since it was analysed, or
    when its genres are no longer those the report showed; those refusals
    are among the run's outcomes (``failed``, ``skipped``)."""
    choices, seen = read_file(file)
    with _locked(db, on_wait) as cache:
        results = as_seen(cache.results(list(choices)), seen)
        plan = plan_choices(results, choices, policy)
        run = apply(plan, cache, id3v23=id3v23, on_file=on_file)
    known = {r.path for r in results}
    refused = [Outcome(p, WriteOutcome.ERROR, "not in the cache; scan it first") for p in choices
               if p not in known]
    refused += [Outcome(e.result.path, WriteOutcome.ERROR, e.decision.reason) for e in plan
                if e.decision.action in (Action.ERROR, Action.UNSUPPORTED)]
    run.outcomes[:0] = refused
    return run


@contextlib.contextmanager
def _opened(db: PathLike | None):
    cache = Cache(db if db is not None else default_db_path())
    try:
        yield cache
    finally:
        cache.close()


@contextlib.contextmanager
def _locked(db: PathLike | None, on_wait: Callable[[Path], None] | None):
    """The cache, under its run lock (``on_wait(db)`` while another run holds it)."""
    with _opened(db) as cache, cache.lock(on_wait and (lambda: on_wait(cache.path))):
        yield cache
