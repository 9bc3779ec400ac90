"""The command line: typer commands over the library modules.

The one place where tagger's errors become "Error: ..." and an exit code:
0 when every file was analysed, 1 when some failed (or a fatal error), 2 for
usage errors. TensorFlow is imported only by commands that run a network, so
``tagger --help`` stays instant.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .errors import TaggerError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Listen to a music library and fill in its genres.\n\n"
                       "Example: tagger scan ~/Music")

DbOption = typer.Option(None, "--db", help="SQLite cache file (default: in the user cache dir).")
ModelOption = typer.Option(None, "--model", "-m", help="Model folder (default: the shipped model).")
PrecisionOption = typer.Option(
    "auto", help="auto | float32 | bfloat16: the network's arithmetic (auto: bfloat16 on CPUs "
    "with native bfloat16, 1.3x faster; float32 elsewhere).")
MAX_TABLE_ROWS = 100


def _fail(message: str, code: int = 1):
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _check_network_options(device: str, precision: str) -> None:
    from .model import DEVICES, PRECISIONS

    for option, value, allowed in (("--device", device, DEVICES),
                                   ("--precision", precision, PRECISIONS)):
        if value not in allowed:
            _fail(f"{option}: unknown value '{value}' (choose from {', '.join(allowed)})", 2)


def _open_cache(db: Optional[Path]):
    from .cache import Cache, default_db_path

    return Cache(db or default_db_path())


def _progress(total: int, quiet: bool):
    """A tqdm bar (count, tracks/s, ETA) on a terminal; None otherwise."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="track", dynamic_ncols=True, file=sys.stderr)


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
    timeout: float = typer.Option(300.0, help="Seconds one file may take to decode."),
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
    from .model import read_metadata
    from .pipeline import Scan, ScanOptions, order_like
    from .policy import WritePolicy, load_config, plan
    from .report import FORMATS, record

    _check_network_options(device, precision)
    if merge and overwrite:
        _fail("--merge and --overwrite cannot be used together", 2)
    if report is not None and report.suffix.lower().lstrip(".") not in FORMATS:
        _fail("--report: the file must end in .json, .csv or .html", 2)
    options = ScanOptions(model_dir=model or ScanOptions.model_dir, jobs=jobs, device=device,
                          precision=precision,
                          force=force, fast=fast, follow_symlinks=follow_symlinks,
                          timeout=timeout, verbose=verbose,
                          cluster=_cluster_options(ray, path_map, ship_audio))
    plain = not quiet and not sys.stderr.isatty()
    try:
        meta = read_metadata(options.model_dir)
        policy = WritePolicy.from_config(
            load_config(config), min_confidence=_default_threshold(min_confidence, meta),
            top_k=top_k, existing="merge" if merge else "overwrite" if overwrite else None,
            album_consensus=album_consensus, include=include or None, exclude=exclude or None)
        cache = _open_cache(db)
        with cache.lock(lambda: typer.echo(f"Waiting for another tagger run using {cache.path} ...", err=True)):
            bar = None

            def found(n: int):
                nonlocal bar
                bar = _progress(n, quiet)

            run = Scan(paths, cache, options, on_found=found)
            results = []
            try:
                for done, result in enumerate(run, 1):
                    results.append(result)
                    if bar is not None:
                        bar.update(1)
                    elif plain and not result.from_cache:
                        _plain_line(done, run.stats.found, result)
            except KeyboardInterrupt:
                if bar is not None:
                    bar.close()
                typer.echo(f"Interrupted: {run.stats.analysed} files analysed and saved; "
                           "run the same command to resume.", err=True)
                raise typer.Exit(130)
            if bar is not None:
                bar.close()
            results = order_like(results, run)
            current = {r.path: r.current_genres for r in results}
            planned = plan([record(r) for r in results], policy, read=current.__getitem__)
            records = [record(r, d.action, d.reason, d.genres_to_write)
                       for r, (_, d) in zip(results, planned)]
            _render(records, run.stats, quiet, verbose, report)
            if write:
                written = _write(planned, cache, run, policy, id3v23, quiet)
                if written:
                    raise typer.Exit(1)
    except TaggerError as e:
        _fail(str(e))
    raise typer.Exit(1 if run.stats.failed else 0)


def _cluster_options(address: Optional[str], path_map: Optional[List[str]], ship_audio: bool):
    from .cluster import ClusterOptions, parse_path_map

    if address is None:
        if path_map or ship_audio:
            _fail("--path-map and --ship-audio go with --ray ADDRESS", 2)
        return None
    try:
        pairs = tuple(parse_path_map(m) for m in path_map or ())
    except ValueError as e:
        _fail(f"--path-map: {e}", 2)
    return ClusterOptions(address, pairs, ship_audio)


def _default_threshold(given: Optional[float], meta: dict) -> Optional[float]:
    """--min-confidence, else the threshold the model card's calibration sets."""
    if given is not None:
        return given
    return meta.get("scores", {}).get("min_confidence")


def _write(planned, cache, run, policy, id3v23: bool, quiet: bool) -> int:
    """Apply the plan; returns how many files could not be written."""
    from dataclasses import asdict

    from .write import apply

    identities = {t.path: (t.size, t.mtime_ns) for t in run.tracks}
    options = {**asdict(policy), "id3v23": id3v23}
    run_id, outcomes = apply(planned, cache, identities, options, run.roots)
    failed = [o for o in outcomes if o.action != "written"]
    for o in failed:
        typer.echo(f"{o.path}: not written: {o.reason}", err=True)
    if run_id is None:
        typer.echo("Nothing to write.")
    else:
        typer.echo(f"Write run {run_id}: {len(outcomes) - len(failed)} files written, "
                   f"{len(failed)} failed. Undo with: tagger undo {run_id}")
    return len(failed)


def _plain_line(done: int, total: int, result) -> None:
    if result.status == "ok":
        genre, conf = result.genres[0]
        typer.echo(f"[{done}/{total}] {result.path}: {genre} ({conf:.0%})", err=True)
    else:
        typer.echo(f"[{done}/{total}] {result.path}: error: {result.error}", err=True)


def _render(records, stats, quiet: bool, verbose: bool, report: Optional[Path]) -> None:
    from rich.console import Console

    from .report import summary_lines, table, write_report

    console = Console(soft_wrap=False)
    if not quiet and records:
        shown = records if verbose or len(records) <= MAX_TABLE_ROWS else records[:MAX_TABLE_ROWS]
        console.print(table(shown))
        if len(shown) < len(records):
            console.print(f"... and {len(records) - len(shown)} more files "
                          "(--report FILE.csv lists them all, -v shows them here)")
    lines = summary_lines(records, stats.found, stats.analysed, stats.cached,
                          stats.failed, stats.elapsed, stats.audio_seconds)
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
    from .report import record, summary_lines, table, write_report
    from rich.console import Console

    try:
        cache = _open_cache(db)
        results = cache.results()
        if paths:
            prefixes = [str(p) for p in paths]
            results = [r for r in results if any(
                r.path == p or r.path.startswith(p.rstrip("/") + "/") for p in prefixes)]
        records = [record(r) for r in results]
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
def undo(
    run_id: Optional[int] = typer.Argument(None, help="The write run to undo (default: the latest)."),
    db: Optional[Path] = DbOption,
):
    """Restore the genres a write run changed. Files changed since are left alone.

    Example: tagger undo        (the latest run; tagger history lists them)
    """
    from .journal import undo as undo_run

    try:
        cache = _open_cache(db)
        with cache.lock(lambda: typer.echo("Waiting for another tagger run ...", err=True)):
            result = undo_run(cache.db, run_id)
    except TaggerError as e:
        _fail(str(e))
    for f in result.problems():
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

    from .journal import Journal

    try:
        runs = Journal(_open_cache(db).db).runs()
    except TaggerError as e:
        _fail(str(e))
    t = Table(title="Write runs")
    for col in ("run", "started", "finished", "files written", "undone"):
        t.add_column(col)
    for r in runs:
        t.add_row(str(r["id"]), r["started_at"], r["finished_at"] or "(interrupted)",
                  str(r["files_written"]), r["undone_at"] or "")
    Console().print(t)


@app.command()
def train(
    data_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of <label>/<audio file>."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    arch: str = typer.Option("musicnn", "--arch", help="musicnn (pretrained backbone + head) | cnn | crnn."),
    epochs: int = typer.Option(30, min=1, help="cnn / crnn: at most this many epochs (early stopping)."),
    cv: Optional[int] = typer.Option(None, "--cv", min=2, help="Also run K-fold CV by track and store the scores."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Decode processes."),
    seed: int = typer.Option(0, help="Random seed of splits and training."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Train a model on a labelled folder (labels = sub-folder names).

    Example: tagger train ../shared/data/gtzan-dev --out models/mine --cv 4
    """
    from .dataset import load_folder
    from .train import Settings, cross_validate, prepare, train as fit

    settings = Settings(arch=arch, epochs=epochs, jobs=jobs, seed=seed, verbose=verbose)
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    try:
        data = load_folder(data_dir)
        say(f"{len(data.paths)} tracks: " + ", ".join(f"{k} {v}" for k, v in data.counts().items()))
        prep = prepare(data, settings, say)
        scores = None
        if cv:
            from .evaluate import scores as score

            probs = cross_validate(prep, settings, cv, say)
            scores = {"cv": {"folds": cv, "seed": seed, "by": "track",
                             **score(prep.data.y, probs, prep.data.labels)}}
            scores["min_confidence"] = _calibrated_threshold(prep.data.y, probs)
            _print_scores(scores["cv"])
        meta = fit(prep, out, settings, say, scores)
    except TaggerError as e:
        _fail(str(e))
    typer.echo(f"Model written to {out} ({meta['data']['tracks']} tracks, labels: "
               f"{', '.join(meta['labels'])})")


def _calibrated_threshold(y, probs, target: float = 0.95) -> float:
    """The lowest confidence above which CV predictions are right at least
    ``target`` of the time: the default --min-confidence for writing."""
    import numpy as np

    conf, right = probs.max(axis=1), probs.argmax(axis=1) == y
    for t in np.round(np.arange(0.3, 0.96, 0.05), 2):
        sel = conf >= t
        if sel.sum() >= 10 and right[sel].mean() >= target:
            return float(t)
    return 0.95


def _print_scores(result: dict) -> None:
    from rich.console import Console

    from .evaluate import confusion_table, scores_table

    console = Console()
    console.print(scores_table(result))
    console.print(confusion_table(result))
    cal = result["calibration"]
    console.print(f"Calibration: ECE {cal['ece']:.3f}; confidence >= {cal['confident_threshold']}: "
                  f"{cal['confident_share']:.0%} of tracks, right {cal['confident_accuracy'] or 0:.1%}",
                  markup=False, highlight=False)


@app.command()
def evaluate(
    data_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of <label>/<audio file>."),
    model: Optional[Path] = ModelOption,
    cv: Optional[int] = typer.Option(None, "--cv", min=2, help="K-fold CV by track of the model's architecture, instead of scoring the model."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the scores to FILE.json."),
    confusion: Optional[Path] = typer.Option(None, "--confusion", help="Save the confusion matrix picture (PNG)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1),
    device: str = typer.Option("auto", help="auto | cpu | gpu."),
    precision: str = PrecisionOption,
    arch: Optional[str] = typer.Option(None, "--arch", help="With --cv: the architecture (default: the model's)."),
    epochs: int = typer.Option(30, min=1, help="With --cv, cnn / crnn: at most this many epochs per fold."),
    seed: int = typer.Option(0, help="With --cv: the split seed."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
):
    """Score a model on a labelled folder, or cross-validate an architecture.

    Example: tagger evaluate ../shared/data/gtzan-dev --cv 4 --report cv.json --confusion cv.png
    """
    import json

    from .constants import DEFAULT_MODEL_DIR
    from .dataset import load_folder
    from .evaluate import confusion_png, model_probs, scores as score
    from .model import precision_on, read_metadata

    _check_network_options(device, precision)
    say = lambda m: typer.echo(m, err=True)  # noqa: E731
    try:
        data = load_folder(data_dir)
        if cv:
            from .train import Settings, cross_validate, prepare

            arch = arch or read_metadata(model or DEFAULT_MODEL_DIR)["arch"]
            settings = Settings(arch=arch, epochs=epochs, jobs=jobs, seed=seed, verbose=verbose,
                                precision=precision)
            prep = prepare(data, settings, say)
            data, probs = prep.data, cross_validate(prep, settings, cv, say)
            result = {"cv": cv, "seed": seed, "arch": arch, "epochs": epochs if arch != "musicnn" else None,
                      "precision": prep.precision,
                      **score(data.y, probs, data.labels)}
        else:
            data, probs = model_probs(model or DEFAULT_MODEL_DIR, data, jobs, device, say,
                                      precision)
            result = {"model": str(model or DEFAULT_MODEL_DIR),
                      "precision": precision_on(device, precision, verbose),
                      **score(data.y, probs, data.labels)}
        _print_scores(result)
        if report:
            try:
                report.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
            except OSError as e:
                raise TaggerError(f"cannot write the report: {e.strerror}", report) from e
        if confusion:
            confusion_png(result, confusion)
    except TaggerError as e:
        _fail(str(e))


def main() -> None:  # pragma: no cover - the console script
    app()
