"""tagger.report.render: the JSON / CSV records built from TrackResult + Decision,
the table and the summary."""

from __future__ import annotations

import csv
import json

import pytest
from rich.console import Console

from tagger.results import Action, TrackResult
from tagger.errors import TaggerError
from tagger.writing.policy import Decision, Plan, PlanEntry, WritePolicy
from tagger.report.render import record, records, summary_lines, table, write_report

OK = TrackResult("/m/[bold]a.flac", "ok", [("hiphop", 0.912345), ("jazz", 0.087655)],
                 duration=4.004, current_genres=["Soul"], album="Quiet")
BAD = TrackResult("/m/b.mp3", "error", error="empty file (0 bytes)")
WRITE = Decision(Action.WRITE, ["Hip-Hop"], "hiphop 0.91")
KEEP = Decision(Action.KEEP, [], "has genres Soul")


def test_a_record_without_a_decision():
    assert record(OK) == {
        "path": "/m/[bold]a.flac", "status": "ok",
        "genres": [{"genre": "hiphop", "confidence": 0.9123},
                   {"genre": "jazz", "confidence": 0.0877}],
        "error": None, "current_genres": ["Soul"], "duration": 4.0, "from_cache": False,
        "album": "Quiet", "unsure": False, "unsure_reason": None}


def test_a_record_with_a_decision_says_what_write_would_do():
    rec = record(BAD, Decision("error", [], "empty file (0 bytes)"))
    assert {k: rec[k] for k in ("status", "genres", "duration", "action", "action_reason",
                                "write_genres")} == {
        "status": "error", "genres": [], "duration": None, "action": "error",
        "action_reason": "empty file (0 bytes)", "write_genres": []}
    assert record(OK, WRITE)["write_genres"] == ["Hip-Hop"]


def test_records_of_a_plan_keep_its_order():
    plan = Plan([PlanEntry(BAD, Decision("error", [], "x")), PlanEntry(OK, WRITE)],
                WritePolicy(0.5))
    assert [(r["path"], r["action"]) for r in records(plan)] == [
        ("/m/b.mp3", "error"), ("/m/[bold]a.flac", "write")]


def test_json_and_csv_reports(tmp_path):
    recs = [record(OK, WRITE), record(BAD, KEEP)]
    assert write_report(tmp_path / "r.json", recs) == "json"
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == recs
    assert write_report(tmp_path / "r.CSV", recs) == "csv"
    rows = list(csv.DictReader((tmp_path / "r.CSV").open(encoding="utf-8")))
    assert rows[0] == {
        "path": "/m/[bold]a.flac", "status": "ok", "genre": "hiphop", "confidence": "0.9123",
        "genres": "hiphop:0.9123;jazz:0.0877", "current_genres": "Soul", "duration": "4.0",
        "from_cache": "False", "error": "", "album": "Quiet", "unsure": "False", "unsure_reason": "",
        "action": "write", "write_genres": "Hip-Hop", "action_reason": "hiphop 0.91"}
    assert (rows[1]["genre"], rows[1]["confidence"], rows[1]["error"]) == (
        "", "", "empty file (0 bytes)")


@pytest.mark.parametrize("name, message", [
    ("r.txt", "the report file must end in .json, .csv or .html"),
    ("missing/r.json", "cannot write the report: No such file or directory"),
])
def test_a_report_that_cannot_be_written_names_the_file(tmp_path, name, message):
    with pytest.raises(TaggerError) as e:
        write_report(tmp_path / name, [record(OK)])
    assert str(e.value) == f"{tmp_path / name}: {message}"


def rendered(t) -> str:
    console = Console(width=200, record=True)
    console.print(t)
    return console.export_text()


def test_the_table_shows_paths_as_written_and_the_action_column_only_with_decisions():
    text = rendered(table([record(OK, WRITE), record(BAD, KEEP)]))
    assert "/m/[bold]a.flac" in text  # markup in a name is text
    assert "hiphop / jazz 9%" in text and "91%" in text
    assert "write Hip-Hop (hiphop 0.91)" in text
    assert "error: empty file (0 bytes)" in text
    assert "--write would" not in rendered(table([record(OK)]))


def test_summary_lines():
    recs = [record(OK), record(OK), record(BAD)]
    assert summary_lines(recs, 3, 1, 1, 1, 2.0, 120.0) == [
        "3 files found: 1 analysed, 1 from cache, 1 failed",
        "Genres: hiphop 2",
        "Time: 2.0 s (1.00 tracks/s, 2.0 min of audio at 60x real time)"]
    assert summary_lines([], 0, 0, 0, 0) == ["0 files found: 0 analysed, 0 from cache, 0 failed"]


def test_ten_thousand_cached_rows_through_plan_and_every_report(tmp_path):
    """A real SQLite cache of 10,000 results (tests/manyrows.py): each row
    is read back once, planned as its kind says, and is one record in the
    JSON, CSV and HTML reports; the counts add up. (benchmarks/many_rows.py
    times these steps at 10,000 and 40,000 rows.)"""
    from collections import Counter

    import manyrows
    import tagger
    from tagger.report import review

    n = 10_000
    db = tmp_path / "cache.db"
    manyrows.fill(db, n)
    results = tagger.cached(db=db)
    assert len(results) == n and len({r.path for r in results}) == n
    plan = tagger.plan(results, WritePolicy(0.5), fresh=False)
    assert Counter(e.decision.action for e in plan) == manyrows.expected_actions(n)
    assert len(plan.to_write()) == manyrows.expected_actions(n)["write"]

    recs = records(plan)
    for fmt in ("json", "csv", "html"):
        write_report(tmp_path / f"r.{fmt}", recs)
    rows = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert sorted(r["path"] for r in rows) == sorted(r.path for r in results)
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as f:
        csv_rows = list(csv.DictReader(f))
    assert Counter(r["action"] for r in csv_rows) == manyrows.expected_actions(n)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    errors, unsure = n // 20, n // 20
    assert review.counts(recs) == {"files": n, "analysed": n - errors, "errors": errors,
                                   "unsure": unsure,
                                   "would write": manyrows.expected_actions(n)["write"]}
    assert f'data-stat="files"><b>{n:,}</b>' in html
    counts, genres = summary_lines(recs, n, 0, n - errors, errors)[:2]
    assert counts == f"{n} files found: 0 analysed, {n - errors} from cache, {errors} failed"
    shown = dict(item.rsplit(" ", 1) for item in genres.removeprefix("Genres: ").split(", "))
    assert {g: int(c) for g, c in shown.items()} == Counter(
        manyrows.LABELS[i % len(manyrows.LABELS)] for i in range(n) if i % 20)
