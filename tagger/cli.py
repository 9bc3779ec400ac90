"""The command line: typer commands over the public API (``tagger.api``).

Each command parses its options, calls the API, renders the result. The one place where tagger's errors become "Error: ..." and an exit code:
0 when every file was analysed, 1 when some failed (or a fatal error), 2 for
usage errors. TensorFlow is imported only by commands that run a network, so
``tagger --help`` stays instant.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import List, NoReturn, Optional

import typer

from .constants import DEFAULT_EPOCHS, DEFAULT_TIMEOUT
from .errors import TaggerError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Listen to a music library and fill in its genres.\n\n"
                       "Example: tagger scan ~/Music")

DbOption = typer.Option(None, "--db", help="SQLite cache file (default: in the user cache dir).")
ModelOption = typer.Option(None, "--model", "-m", help="Model folder (default: the shipped model).")
PrecisionOption = typer.Option(
    "auto", help="auto | float32 | bfloat16: the network's arithmetic (auto: bfloat16 on CPUs "
    "with native bfloat16, 1.4x faster; float32 elsewhere).")
MAX_TABLE_ROWS = 100


def _fail(message: str, code: int = 1):
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _check_network_options(device: str, precision: str) -> None:
    from .model.device import DEVICES, PRECISIONS

    for option, value, allowed in (("--device", device, DEVICES),
                                   ("--precision", precision, PRECISIONS)):
        if value not in allowed:
            _fail(f"{option}: unknown value '{value}' (choose from {', '.join(allowed)})", 2)


def _waiting(path) -> None:
    typer.echo(f"Waiting for another tagger run using {path} ...", err=True)


class _Progress:
    """Scan progress on stderr: a tqdm bar (count, tracks/s, ETA) on a
    terminal, else a line per analysed file (nothing when quiet)."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet, None
        self.plain = not quiet and not sys.stderr.isatty()

    def found(self, total: int) -> None:
        if not self.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="track", dynamic_ncols=True, file=sys.stderr)

    def collect(self, run) -> list:
        """Every result of the scan ``run``, in the library's walk order."""
        results = []
        try:
            with run:  # Ctrl-C between two results releases the cache too
                for done, result in enumerate(run, 1):
                    results.append(result)
                    if self.bar is not None:
                        self.bar.update(1)
                    elif self.plain and not result.from_cache:
                        _plain_line(done, run.stats.found, result)
        except KeyboardInterrupt:
            if self.bar is not None:
                self.bar.close()
            typer.echo(f"Interrupted: {run.stats.analysed} files analysed and saved; "
                       "run the same command to resume.", err=True)
            raise typer.Exit(130)
        if self.bar is not None:
            self.bar.close()
        return run.ordered(results)


@app.command()
def scan(
    paths: List[Path] = typer.Argument(..., exists=True, help="Folders or files to scan."),
    db: Optional[Path] = DbOption,
    model: Optional[Path] = ModelOption,
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Decode processes (default: all cores)."),
    device: str = typer.Option("auto", help="auto | cpu | gpu: where the network runs."),
    precision: str = PrecisionOption,
    fast: bool = typer.Option(False, "--fast", help="Analyse a few windows per track instead of all of it."),
    force: bool = typer.Option(False, "--force", help="Analyse again even files already in the cache."),
    follow_symlinks: bool = typer.Option(False, "--follow-symlinks", help="Follow symlinked folders."),
    report: Optional[Path] = typer.Option(None, "--report", help="Also write the report to FILE.json, FILE.csv or FILE.html (a review page)."),
    write: bool = typer.Option(False, "--write", help="Write the proposed genres into the files (undo: tagger undo)."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", min=0.0, max=1.0, help="Write a genre only at or above this confidence (default: the model card's)."),
    top_k: Optional[int] = typer.Option(None, "--top-k", min=1, help="Genres written per file (default 1)."),
    merge: bool = typer.Option(False, "--merge", help="Add to a file's existing genres."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a file's existing genres."),
    album_consensus: Optional[bool] = typer.Option(None, "--album-consensus/--no-album-consensus", help="Give an album's tracks its majority genre."),
    include: Optional[List[str]] = typer.Option(None, "--include", help="Write only paths matching this glob (repeatable)."),
    exclude: Optional[List[str]] = typer.Option(None, "--exclude", help="Never write paths matching this glob (repeatable)."),
    id3v23: bool = typer.Option(False, "--id3v23", help="New ID3 tags are v2.3 (genres joined by '/'), not v2.4; existing tags keep their version."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML policy file (default: user config dir's tagger/config.toml)."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT, help="Seconds one file may take to decode."),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="ADDRESS", help="Run decoding and the network on this Ray cluster (host:port, or auto); needs tagger[ray]."),
    path_map: Optional[List[str]] = typer.Option(None, "--path-map", metavar="LOCAL=REMOTE", help="With --ray: the library's path prefix on the nodes (repeatable)."),
    ship_audio: bool = typer.Option(False, "--ship-audio", help="With --ray: send the files' bytes to the nodes instead of reading a shared mount."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, no table: only the summary."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show details (and TensorFlow's logs)."),
):
    """Analyse audio files and propose a genre for each. Nothing is written
    unless --write is given; the report says what --write would do.

    Example: tagger scan ~/Music --report proposals.csv
    """
    from . import api
    from .report.render import FORMATS, records

    _check_network_options(device, precision)
    if merge and overwrite:
        _fail("--merge and --overwrite cannot be used together", 2)
    if report is not None and report.suffix.lower().lstrip(".") not in FORMATS:
        _fail("--report: the file must end in .json, .csv or .html", 2)
    try:
        policy = api.write_policy(
            config, model=model, min_confidence=min_confidence, top_k=top_k,
            existing="merge" if merge else "overwrite" if overwrite else None,
            album_consensus=album_consensus, include=include or None, exclude=exclude or None)
        progress = _Progress(quiet)
        run = api.scan(paths, db=db, model=model, jobs=jobs, device=device, precision=precision,
                       fast=fast, force=force, follow_symlinks=follow_symlinks, timeout=timeout,
                       verbose=verbose, cluster=_cluster_options(ray, path_map, ship_audio),
                       on_found=progress.found, on_wait=_waiting)
        results = progress.collect(run)
        _say_restored(run.restored)
        # A dry run previews from the cached genres (a warm re-scan stays a
        # cache read); --write reads every file's genres again first.
        plan = api.plan(results, policy, fresh=write)
        _render(records(plan), run.stats, quiet, verbose, report)
        if write:
            try:
                written = api.write(plan, db=db, id3v23=id3v23, on_wait=_waiting)
            except KeyboardInterrupt:
                _interrupted("every file written so far is journaled: tagger history "
                             "lists the run, tagger undo undoes it")
            _say_written(written, db)
            if written.failed:
                raise typer.Exit(1)
    except TaggerError as e:
        _fail(str(e))
    raise typer.Exit(1 if run.stats.failed else 0)


def _cluster_options(address: Optional[str], path_map: Optional[List[str]], ship_audio: bool):
    from .cluster.driver import ClusterOptions, parse_path_map

    if address is None:
        if path_map or ship_audio:
            _fail("--path-map and --ship-audio go with --ray ADDRESS", 2)
        return None
    try:
        pairs = tuple(parse_path_map(m) for m in path_map or ())
    except ValueError as e:
        _fail(f"--path-map: {e}", 2)
    return ClusterOptions(address, pairs, ship_audio)


def _say_restored(paths: List[str]) -> None:
    if paths:
        files = "1 file" if len(paths) == 1 else f"{len(paths)} files"
        typer.echo(f"Restored {files} from backup (a write was interrupted): "
                   + ", ".join(paths), err=True)


def _interrupted(what_now: str) -> NoReturn:
    """Ctrl-C during a write or an undo: the file being edited was finished first."""
    typer.echo(f"Interrupted: {what_now}.", err=True)
    raise typer.Exit(130)


def _say_cleaned(paths: List[str]) -> None:
    if paths:
        files = "1 file" if len(paths) == 1 else f"{len(paths)} files"
        typer.echo(f"Removed {files} an interrupted run left: " + ", ".join(paths), err=True)


def _say_written(run, db: Optional[Path] = None) -> None:
    _say_cleaned(run.cleaned)
    for o in run.failed + run.skipped:
        typer.echo(f"{o.path}: not written: {o.reason}", err=True)
    if run.id is None:
        typer.echo("Nothing to write.")
        return
    skipped = f", {len(run.skipped)} skipped" if run.skipped else ""
    again = f" --db {shlex.quote(str(db))}" if db is not None else ""
    typer.echo(f"Write run {run.id}: {len(run.written)} files written, "
               f"{len(run.failed)} failed{skipped}. Undo with: tagger undo {run.id}{again}")


def _plain_line(done: int, total: int, result) -> None:
    if result.status == "ok" and result.genres:
        genre, conf = result.genres[0]
        typer.echo(f"[{done}/{total}] {result.path}: {genre} ({conf:.0%})", err=True)
    elif result.status == "ok":  # not judged
        typer.echo(f"[{done}/{total}] {result.path}: unsure ({result.unsure_reason})", err=True)
    else:
        typer.echo(f"[{done}/{total}] {result.path}: error: {result.error}", err=True)


def _render(records, stats, quiet: bool, verbose: bool, report: Optional[Path]) -> None:
    from rich.console import Console

    from .report.render import summary_lines, table, write_report

    console = Console(soft_wrap=False)
    if not quiet and records:
        shown = records if verbose or len(records) <= MAX_TABLE_ROWS else records[:MAX_TABLE_ROWS]
        console.print(table(shown))
        if len(shown) < len(records):
            console.print(f"... and {len(records) - len(shown)} more files "
                          "(--report FILE.csv lists them all, -v shows them here)")
    lines = summary_lines(records, stats.found, stats.analysed, stats.cached,
                          stats.failed, stats.elapsed, stats.audio_seconds, stats.duplicates)
    if stats.cluster:
        lines.append(f"Ray cluster: {stats.cluster}")
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if report is not None:
        write_report(report, records)
        console.print(f"Report written to {report}", markup=False, highlight=False)


@app.command("report")
def report_cmd(
    paths: List[Path] = typer.Argument(None, help="Only files under these paths (default: all cached)."),
    db: Optional[Path] = DbOption,
    output: Optional[Path] = typer.Option(None, "--report", "-o", help="Write to FILE.json, FILE.csv or FILE.html (a review page)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No table: only the summary."),
):
    """Show the cached results again, without decoding anything.

    Example: tagger report ~/Music --report proposals.json
    """
    from rich.console import Console

    from . import api
    from .report.render import record, summary_lines, table, write_report

    try:
        records = [record(r) for r in api.cached(paths or None, db=db)]
        console = Console()
        if not quiet and records:
            console.print(table(records, "Cached results"))
        ok = sum(r["status"] == "ok" for r in records)
        for line in summary_lines(records, len(records), 0, ok, len(records) - ok):
            console.print(line, markup=False, highlight=False)
        if output is not None:
            write_report(output, records)
    except TaggerError as e:
        _fail(str(e))


@app.command()
def review(
    paths: List[Path] = typer.Argument(..., exists=True, help="Folders or files to review."),
    db: Optional[Path] = DbOption,
    model: Optional[Path] = ModelOption,
    unsure: bool = typer.Option(False, "--unsure", help="Only albums with a track the model is unsure of."),
    no_genre: bool = typer.Option(False, "--no-genre", help="Only albums none of whose tracks has a genre."),
    differs: bool = typer.Option(False, "--differs", help="Only albums whose proposal differs from a track's genre."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Decode processes, for files not in the cache."),
    id3v23: bool = typer.Option(False, "--id3v23", help="New ID3 tags are v2.3, not v2.4."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML policy file (its display_names name the genres)."),
):
    """Decide album by album: apply the proposal (a), pick a candidate (2, 3),
    enter a genre (e), go track by track (t), reject (r), skip (s) or quit
    (q). What is decided is written in one run (undo: tagger undo); the next
    review goes on where this one stopped.

    Example: tagger review ~/Music --unsure
    """
    from . import api
    from .reviewing.terminal import completion_words, review as ask_albums

    try:
        policy = api.write_policy(config, model=model)
        progress = _Progress(False)
        run = api.scan(paths, db=db, model=model, jobs=jobs, on_found=progress.found,
                       on_wait=_waiting)
        results = progress.collect(run)
        _say_restored(run.restored)
        todo = api.review_albums(results, policy, db=db, unsure=unsure, without_genre=no_genre,
                                 differs=differs)
        tally = ask_albums(todo, policy, completions=completion_words(results, policy),
                           on_decision=lambda d: api.record_decisions([d], results, db=db),
                           say=typer.echo)
        left = len(todo) - tally.decided
        typer.echo(f"{tally.decided} decided, {left} left"
                   + ("; tagger review goes on where this one stopped." if left else "."))
        written = api.write_decided(policy, db=db, id3v23=id3v23, on_wait=_waiting)
        _say_written(written, db)
    except TaggerError as e:
        _fail(str(e))
    raise typer.Exit(1 if written.failed else 0)


@app.command("apply")
def apply_cmd(
    decisions: Path = typer.Argument(..., exists=True, dir_okay=False, help="A decisions file the review page exported."),
    db: Optional[Path] = DbOption,
    model: Optional[Path] = ModelOption,
    id3v23: bool = typer.Option(False, "--id3v23", help="New ID3 tags are v2.3, not v2.4."),
    config: Optional[Path] = typer.Option(None, "--config", help="TOML policy file (its display_names name the genres)."),
):
    """Write exactly the decisions exported from the review page, in one
    run (undo: tagger undo). Files changed since the report are refused.

    Example: tagger apply ~/Downloads/tagger-decisions.json
    """
    from . import api

    try:
        policy = api.write_policy(config, model=model)
        written = api.apply_decisions(decisions, policy, db=db, id3v23=id3v23, on_wait=_waiting)
    except TaggerError as e:
        _fail(str(e))
    _say_written(written, db)
    raise typer.Exit(1 if written.failed or written.skipped else 0)


@app.command()
def undo(
    run_id: Optional[int] = typer.Argument(None, help="The write run to undo (default: the latest)."),
    db: Optional[Path] = DbOption,
):
    """Restore the genres a write run changed. Files changed since are left alone.

    Example: tagger undo        (the latest run; tagger history lists them)
    """
    from . import api

    try:
        result = api.undo(run_id, db=db,
                          on_wait=lambda _: typer.echo("Waiting for another tagger run ...", err=True))
    except TaggerError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _interrupted("run the same command to undo the rest")
    _say_cleaned(result.cleaned)
    for f in result.not_identical() + result.problems():
        typer.echo(f"{f.path}: {f.outcome}: {f.reason}", err=True)
    counts = result.counts()
    typer.echo(f"Undo of write run {result.run_id}: " +
               ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if n))
    raise typer.Exit(1 if result.problems() else 0)


@app.command()
def history(db: Optional[Path] = DbOption):
    """List the write runs, newest last.

    Example: tagger history
    """
    from rich.console import Console
    from rich.table import Table

    from . import api

    try:
        runs = api.history(db=db)
    except TaggerError as e:
        _fail(str(e))
    t = Table(title="Write runs")
    for col in ("run", "started", "finished", "files written", "exact undo", "undone"):
        t.add_column(col)
    for r in runs:
        t.add_row(str(r["id"]), r["started_at"], r["finished_at"] or "(interrupted)",
                  str(r["files_written"]), _exact_undo(r), r["undone_at"] or "")
    Console().print(t)


def _exact_undo(run: dict) -> str:
    """Whether undo can give back the very bytes of a run's files: "yes", "no"
    (genres only: a journal of an older tagger) or "N of M files"."""
    exact, written = run["files_exact"], run["files_written"]
    if exact == written:
        return "yes"
    return "no" if exact == 0 else f"{exact} of {written} files"


DataDirs = typer.Argument(..., exists=True, file_okay=False,
                          help="Folders of <label>/<audio file> (a manifest.csv with an "
                               "'artist' column makes CV split by artist); with --from-tags, "
                               "music folders whose files' genre tags are the labels.")
FromTagsOption = typer.Option(
    False, "--from-tags", help="Learn the genres the files' own tags name, in the library's "
    "spelling (CV by album and artist); a scan's cache spares decoding.")
MinTracksOption = typer.Option(None, "--min-tracks", min=2,
                               help="With --from-tags: files a genre needs to be learnt.")


def _library_labels(data_dirs: List[Path], min_tracks: Optional[int], say):
    """The labels a library's tags give (training.fromtags), said."""
    from .training.fromtags import MIN_TRACKS, read_library

    labels = read_library(data_dirs, min_tracks=min_tracks or MIN_TRACKS)
    for line in labels.summary():
        say(line)
    return labels


@app.command()
def train(
    data_dirs: List[Path] = DataDirs,
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    arch: str = typer.Option("musicnn", "--arch", help="musicnn (pretrained backbone + head) | cnn | crnn."),
    epochs: int = typer.Option(DEFAULT_EPOCHS, min=1, help="cnn / crnn: at most this many epochs (early stopping)."),
    cv: Optional[int] = typer.Option(None, "--cv", min=2, help="Also run K-fold CV (by artist or track) and store the scores."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Decode processes."),
    seed: int = typer.Option(0, help="Random seed of splits and training."),
    from_tags: bool = FromTagsOption,
    min_tracks: Optional[int] = MinTracksOption,
    db: Optional[Path] = DbOption,
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Train a model on labelled folders (labels = sub-folder names; the
    label set is their union), or with --from-tags on a library's own genre
    tags (after a scan, from its cache: nothing is decoded again).

    Example: tagger train ../shared/data/gtzan-dev ../shared/data/emotify-dev --out models/mine --cv 4

    Example: tagger train ~/Music --from-tags --out ~/my-genres
    """
    from .training.dataset import load_folders
    from .extras import require_train
    from .training.modelstore import check_out
    from .training.train import Settings, prepare, run_cv, train as fit

    settings = Settings(arch=arch, epochs=epochs, jobs=jobs, seed=seed, verbose=verbose)
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    try:
        require_train("tagger train", "sklearn")
        check_out(out)  # before hours of training, not after
        if from_tags:
            from . import api

            if arch != "musicnn":
                raise TaggerError("--from-tags trains the musicnn head only (--arch musicnn)")
            learnt = api.learn(data_dirs, out, db=db, folds=cv, jobs=jobs, min_tracks=min_tracks,
                               seed=seed, on_progress=say)
            _print_scores(learnt.run.scores, learnt.min_confidence)
            typer.echo(f"Model written to {out} ({learnt.card.tracks} tracks, "
                       f"genres: {', '.join(learnt.card.labels)})")
            return
        data = load_folders(data_dirs)
        say(f"{len(data.paths)} tracks: " + ", ".join(f"{k} {v}" for k, v in data.counts().items()))
        if cv:
            run = run_cv(data, settings, cv, say)
            _print_scores(run.scores, run.trust["min_confidence"])
            meta = fit(run.prep, out, settings, say, run)
        else:
            meta = fit(prepare(data, settings, say), out, settings, say)
    except TaggerError as e:
        _fail(str(e))
    typer.echo(f"Model written to {out} ({meta['data']['tracks']} tracks, labels: "
               f"{', '.join(meta['labels'])})")


def _print_scores(result: dict, min_confidence: Optional[float] = None) -> None:
    from rich.console import Console

    from .training.scorecard import confusion_table, scores_table, writes_table

    console = Console()
    console.print(scores_table(result))
    console.print(confusion_table(result))
    for name, part in result.get("sources", {}).items():
        if len(result["sources"]) > 1:
            console.print(f"{name}: {part['tracks']} tracks, accuracy {part['accuracy']:.3f}, "
                          f"balanced accuracy {part['balanced_accuracy']:.3f} over "
                          f"{len(part['labels_seen'])} labels", markup=False, highlight=False)
    cal = result["calibration"]
    console.print(f"Calibration: ECE {cal['ece']:.3f}; confidence >= {cal['confident_threshold']}: "
                  f"{cal['confident_share']:.0%} of tracks, right {cal['confident_accuracy'] or 0:.1%}",
                  markup=False, highlight=False)
    if "sources" in result:
        console.print(writes_table(result, min_confidence))


@app.command()
def evaluate(
    data_dirs: List[Path] = DataDirs,
    model: Optional[Path] = ModelOption,
    cv: Optional[int] = typer.Option(None, "--cv", min=2, help="K-fold CV (by artist where a manifest names them, else by track) of the model's architecture, instead of scoring the model."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the scores to FILE.json."),
    confusion: Optional[Path] = typer.Option(None, "--confusion", help="Save the confusion matrix picture (PNG)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1),
    device: str = typer.Option("auto", help="auto | cpu | gpu."),
    precision: str = PrecisionOption,
    arch: Optional[str] = typer.Option(None, "--arch", help="With --cv: the architecture (default: the model's)."),
    epochs: int = typer.Option(DEFAULT_EPOCHS, min=1, help="With --cv, cnn / crnn: at most this many epochs per fold."),
    seed: int = typer.Option(0, help="With --cv: the split seed."),
    from_tags: bool = FromTagsOption,
    min_tracks: Optional[int] = MinTracksOption,
    db: Optional[Path] = DbOption,
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Score a model on labelled folders, or cross-validate an architecture;
    per source and overall, with what the default --write would write. With
    --from-tags --cv K: what a model learnt from a library's own tags would
    do, before training it (per genre precision / recall, the writes'
    precision / coverage curve, the default threshold marked *).

    Example: tagger evaluate ../shared/data/gtzan-dev ../shared/data/emotify-dev --cv 4 --report cv.json

    Example: tagger evaluate ~/Music --from-tags --cv 4
    """
    import json

    from .constants import DEFAULT_MODEL_DIR
    from .training.dataset import load_folders
    from .training.evaluate import source_scores
    from .training.probs import model_probs
    from .training.scorecard import confusion_png
    from .extras import require_train
    from .model.device import precision_on
    from .model.card import read_card

    _check_network_options(device, precision)
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    try:
        require_train("tagger evaluate", *(["sklearn"] if cv else []),
                      *(["matplotlib"] if confusion else []))
        if from_tags:
            from .store.cache import default_db_path
            from .training.fromcache import cross_validate_library
            from .training.settings import Settings

            settings = Settings(jobs=jobs, seed=seed, verbose=verbose, precision=precision)
            labels = _library_labels(data_dirs, min_tracks, say)
            run = cross_validate_library(labels, db or default_db_path(), settings, cv, say)
            threshold = run.trust["min_confidence"]
            result = {"cv": run.cv.folds, "seed": seed, "arch": "musicnn", "from_tags": True,
                      "precision": run.prep.precision, **run.scores}
        elif cv:
            from .training.train import Settings, run_cv

            arch = arch or read_card(model or DEFAULT_MODEL_DIR).arch
            settings = Settings(arch=arch, epochs=epochs, jobs=jobs, seed=seed, verbose=verbose,
                                precision=precision)
            run = run_cv(load_folders(data_dirs), settings, cv, say)
            threshold = run.trust["min_confidence"]
            result = {"cv": cv, "seed": seed, "arch": arch,
                      "epochs": epochs if arch != "musicnn" else None,
                      "precision": run.prep.precision, **run.scores}
        else:
            card = read_card(model or DEFAULT_MODEL_DIR)
            data, probs, unsure = model_probs(model or DEFAULT_MODEL_DIR, load_folders(data_dirs),
                                              jobs, device, say, precision)
            threshold = card.min_confidence
            result = {"model": str(model or DEFAULT_MODEL_DIR),
                      "precision": precision_on(device, precision, verbose),
                      **source_scores(data, probs, unsure, threshold)}
        _print_scores(result, threshold)
        if report:
            try:
                report.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
            except OSError as e:
                raise TaggerError(f"cannot write the report: {e.strerror}", report) from e
        if confusion:
            confusion_png(result, confusion)
    except TaggerError as e:
        _fail(str(e))
