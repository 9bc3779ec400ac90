"""Render scan results: a rich table and summary, JSON and CSV files, and the
HTML review page (made by ``review.render`` from the same records)."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..results import TrackResult
from ..store.cache import printable
from ..errors import TaggerError

if TYPE_CHECKING:
    from ..writing.policy import Decision, Plan

TOP_SHOWN = 3  # genres per file in the table and CSV
FORMATS = ("json", "csv", "html")  # report file extensions


def record(result: TrackResult, decision: Decision | None = None) -> dict:
    """The machine-readable form of one result (one JSON object / CSV row).
    With a ``decision``, also what --write would do and the exact genre text
    it would write (display names, e.g. "Hip-Hop" for the label "hiphop")."""
    rec = {
        "path": result.path,
        "status": result.status,
        "genres": [{"genre": g, "confidence": round(c, 4)} for g, c in result.genres],
        "error": result.error,
        "current_genres": list(result.current_genres),
        "duration": None if result.duration is None else round(result.duration, 2),
        "from_cache": result.from_cache,
        "album": result.album,
        "unsure": result.unsure,
        "unsure_reason": result.unsure_reason,
    }
    if decision is not None:
        rec["action"] = decision.action
        rec["action_reason"] = decision.reason
        rec["write_genres"] = list(decision.genres_to_write)
    return rec


def records(plan: Plan) -> list[dict]:
    """``record`` of every entry of a plan, in its order."""
    return [record(e.result, e.decision) for e in plan]


def write_report(path: str | os.PathLike, records: list[dict]) -> str:
    """Write records as JSON, CSV or the HTML review page, by the file's
    extension; returns the format.

    In JSON and CSV, a file name that is not valid UTF-8 is written with
    ``\\xff`` escapes for its undecodable bytes, so the file stays valid
    UTF-8 (and JSON); the review page keeps such names its own way.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt in ("json", "csv"):
        records = [_printable(rec) for rec in records]
    if fmt not in FORMATS:
        raise TaggerError("the report file must end in .json, .csv or .html", path)
    try:
        with open(path, "w", encoding="utf-8", newline="") as f:
            if fmt == "html":
                from .review import render

                f.write(render(records))
            elif fmt == "json":
                json.dump(records, f, ensure_ascii=False, indent=1)
                f.write("\n")
            else:
                _write_csv(f, records)
    except OSError as e:
        raise TaggerError(f"cannot write the report: {e.strerror}", path) from e
    return fmt


def _printable(value):
    """A record with every string made safe to encode (see ``cache.printable``)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _write_csv(f, records: list[dict]) -> None:
    fields = ["path", "status", "genre", "confidence", "unsure", "unsure_reason", "genres",
              "current_genres",
              "duration", "from_cache", "error", "album"]
    if records and "action" in records[0]:
        fields += ["action", "write_genres", "action_reason"]
    writer = csv.DictWriter(f, fields, extrasaction="ignore")
    writer.writeheader()
    for rec in records:
        top = rec["genres"][0] if rec["genres"] else {"genre": "", "confidence": ""}
        writer.writerow({
            **rec, "genre": top["genre"], "confidence": top["confidence"],
            "genres": ";".join(f"{g['genre']}:{g['confidence']:.4f}" for g in rec["genres"]),
            "current_genres": ";".join(rec["current_genres"]),
            "write_genres": ";".join(rec.get("write_genres") or []),
        })


def table(records: list[dict], title: str = "Proposed genres"):
    """A rich Table: path, current genre tag, proposed genre(s), confidence."""
    from rich.table import Table

    t = Table(title=title, show_lines=False, expand=False)
    t.add_column("File", overflow="fold")
    t.add_column("Current")
    t.add_column("Proposed")
    t.add_column("Confidence", justify="right")
    with_action = bool(records) and "action" in records[0]
    if with_action:
        t.add_column("--write would")
    for rec in records:
        current = "; ".join(rec["current_genres"]) or "-"
        if rec["status"] == "ok" and rec.get("unsure"):
            proposed = "[yellow]" + _escape(unsure_text(rec)) + "[/yellow]"
            conf = f"{rec['genres'][0]['confidence']:.0%}" if rec["genres"] else ""
        elif rec["status"] == "ok":
            top = rec["genres"][:TOP_SHOWN]
            proposed = top[0]["genre"] + "".join(
                f" [dim]/ {g['genre']} {g['confidence']:.0%}[/dim]" for g in top[1:])
            conf = f"{top[0]['confidence']:.0%}"
        else:
            proposed, conf = f"[red]error: {_escape(rec['error'])}[/red]", ""
        row = [_escape(rec["path"]), _escape(current), proposed, conf]
        if with_action:
            action = rec["action"]
            if rec.get("write_genres"):
                action += " " + "; ".join(rec["write_genres"])
            if rec.get("action_reason"):
                action += f" ({rec['action_reason']})"
            row.append(_escape(action))
        t.add_row(*row)
    return t


def unsure_text(rec: dict, shown: int = 2) -> str:
    """An unsure verdict with its best candidates: "unsure (rock 41 %, pop 38 %)",
    or with its reason: "unsure (too short to judge: 1.0 s)"."""
    if rec.get("unsure_reason"):
        return f"unsure ({rec['unsure_reason']})"
    best = ", ".join(f"{g['genre']} {g['confidence']:.0%}".replace("%", " %")
                     for g in rec["genres"][:shown])
    return f"unsure ({best})" if best else "unsure"


def _escape(text: str | None) -> str:
    from rich.markup import escape

    return escape(printable(text or ""))


def summary_lines(records: Iterable[dict], found: int, analysed: int, cached: int,
                  failed: int, seconds: float | None = None,
                  audio_seconds: float = 0.0, duplicates: int = 0) -> list[str]:
    """Plain lines: counts (files found = analysed + from cache + failed +
    ``duplicates``), genre distribution, time and speed (tracks/s and, when
    audio was analysed, its duration over the time taken)."""
    records = list(records)
    lines = [f"{found} files found: {analysed} analysed, {cached} from cache, {failed} failed"]
    if duplicates:
        lines.append(f"{duplicates} duplicates taken from an identical file, not decoded")
    genres = Counter(r["genres"][0]["genre"] for r in records if r["status"] == "ok" and r["genres"])
    if genres:
        lines.append("Genres: " + ", ".join(f"{g} {n}" for g, n in genres.most_common()))
    if seconds is not None:
        rate = (analysed + cached + duplicates) / seconds if seconds > 0 else 0.0
        speed = f"{rate:.2f} tracks/s"
        if audio_seconds and seconds > 0:
            speed += f", {audio_seconds / 60:.1f} min of audio at {audio_seconds / seconds:.0f}x real time"
        lines.append(f"Time: {seconds:.1f} s ({speed})")
    return lines
