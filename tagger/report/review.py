"""The review page: one self-contained HTML file made from the report records.

``render(records)`` returns the page for ``report.record`` dicts (the same
ones the JSON report holds; ``album``, ``unsure`` and the ``action`` keys are
optional). It needs nothing but a browser: no network, no external scripts,
fonts or images. The charts (genre distribution, confidence histogram) are
inline SVG drawn here; the file table is drawn by the page's script from the
records, which are embedded as JSON in a ``<script type="application/json">``
block. File names are untrusted text: here they only ever go into that JSON
(with ``<``, ``>`` and ``&`` escaped, so no name can close the script tag),
and the script puts them in the page with ``textContent``, never as HTML.

The table is sorted by clicking a header, filtered by a text box and by
status / action / genre, grouped by folder, and shows ``CHUNK_ROWS`` rows at
a time ("Show more") so a 20,000-file library opens quickly; "Show all" adds
the rest in short tasks, and each row is a grid of fixed column shares with
``content-visibility: auto``, so the browser lays out and draws only the rows
on screen. The page decides too: a choice per album (its group row: folder and album
tag, as album consensus groups them) and per track (a track's own choice
wins): accept the proposal, pick another candidate, type genres (completed
from the library's genres and the model's labels) or reject; a bar counts
the decided files, and "Export decisions" saves them as the JSON file
``tagger apply`` writes (``writing.choices``; a Blob download, no network).
The view is kept
in the URL fragment, e.g. ``review.html#sort=confidence&dir=desc&q=rock``
(keys: sort, dir, q, status, action, genre, group=0), so it can be bookmarked.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import os
import re
from collections import Counter
from html import escape

CHUNK_ROWS = 500  # table rows the page adds per "Show more"
# ms "Show all" adds rows for in one task before the browser draws and takes
# input: tasks under 50 ms keep a page answering input within 100 ms (the
# RAIL model's "long task" limit); shorter ones cost more frames in all.
FILL_TASK_MS = 40
HISTOGRAM_BINS = 10  # confidence bins, each 1 / HISTOGRAM_BINS = 0.1 wide
CHART_WIDTH = 440  # px, both charts
BAR_HEIGHT = 20  # px per genre in the genre chart
LABEL_WIDTH = 110  # px left of the genre bars, for the genre names
HISTOGRAM_HEIGHT = 150  # px of bars in the histogram


def render(records: list[dict], title: str = "tagger review") -> str:
    """The complete HTML page (a str) for ``records``."""
    fields = {
        "TITLE": escape(title),
        "SUMMARY": _summary(records),
        "GENRE_CHART": genre_chart(records),
        "HISTOGRAM": confidence_histogram(records),
        "CSS": _asset("review.css"),
        "SCRIPT": _asset("review.js").replace("@CHUNK_ROWS@", str(CHUNK_ROWS)).replace(
            "@FILL_MS@", str(FILL_TASK_MS)).replace("@SEP@", json.dumps(os.sep)),
        "RECORDS": embed_json(records),
    }
    # One pass, so text substituted in (a file name, say) is never scanned again.
    return re.sub(r"@@(\w+)@@", lambda m: fields[m.group(1)], _asset("review.html"))


def embed_json(records: list[dict]) -> str:
    """Records as JSON safe inside a <script> element: ``<``, ``>`` and ``&``
    (which only occur inside JSON strings) become \\u escapes, so neither
    ``</script>`` nor ``<!--`` can appear; ASCII only, so a file name that is
    not valid UTF-8 (kept as lone surrogates) still writes."""
    text = json.dumps(records, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def counts(records: list[dict]) -> dict[str, int | None]:
    """The header's figures; ``would write`` is None when the records carry no
    plan (``tagger report`` of the cache)."""
    planned = any("action" in r for r in records)
    return {
        "files": len(records),
        "analysed": sum(r["status"] == "ok" for r in records),
        "errors": sum(r["status"] == "error" for r in records),
        "unsure": sum(bool(r.get("unsure")) for r in records),
        "would write": sum(r.get("action") == "write" for r in records) if planned else None,
    }


def top_genres(records: list[dict]) -> Counter:
    """Files per proposed (top) genre, over the analysed files."""
    return Counter(r["genres"][0]["genre"] for r in records if r["status"] == "ok" and r["genres"])


def confidence_bins(records: list[dict]) -> list[int]:
    """Files per top-confidence bin: [0, 0.1), [0.1, 0.2), ... [0.9, 1.0]."""
    bins = [0] * HISTOGRAM_BINS
    for r in records:
        if r["status"] == "ok" and r["genres"]:
            bins[min(int(r["genres"][0]["confidence"] * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
    return bins


def _summary(records: list[dict]) -> str:
    items = []
    for name, value in counts(records).items():
        shown, empty = ("–", ' data-empty="1"') if value is None else (f"{value:,}", "")
        items.append(f'<div class="stat" data-stat="{name}"{empty}><b>{shown}</b> {name}</div>')
    return "\n".join(items)


def genre_chart(records: list[dict]) -> str:
    """A horizontal SVG bar chart: one ``<g class="bar" data-genre=...>`` per genre."""
    genres = top_genres(records).most_common()
    if not genres:
        return '<p class="muted">No analysed files.</p>'
    most = genres[0][1]
    span = CHART_WIDTH - LABEL_WIDTH - 50  # px for the longest bar, 50 for its count
    height = BAR_HEIGHT * len(genres)
    parts = [f'<svg id="genre-svg" width="{CHART_WIDTH}" height="{height}" '
             f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="files per proposed genre">']
    for i, (genre, n) in enumerate(genres):
        y = i * BAR_HEIGHT
        width = max(1.0, span * n / most)
        g = escape(genre)
        parts.append(
            f'<g class="bar" data-genre="{g}" data-count="{n}"><title>{g}: {n} files</title>'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end">{g}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_HEIGHT - 6}"/>'
            f'<text x="{LABEL_WIDTH + width + 5:.1f}" y="{y + 14}">{n:,}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def confidence_histogram(records: list[dict]) -> str:
    """A vertical SVG histogram of the top confidence, one ``<g class="bin">`` per bin."""
    bins = confidence_bins(records)
    if not any(bins):
        return '<p class="muted">No analysed files.</p>'
    most = max(bins)
    top, axis = 16, 18  # px above the bars (for counts) and below (for labels)
    step = (CHART_WIDTH - 20) / HISTOGRAM_BINS
    height = top + HISTOGRAM_HEIGHT + axis
    parts = [f'<svg id="confidence-svg" width="{CHART_WIDTH}" height="{height}" '
             f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="files per confidence">']
    for i, n in enumerate(bins):
        low, high = i / HISTOGRAM_BINS, (i + 1) / HISTOGRAM_BINS
        h = HISTOGRAM_HEIGHT * n / most
        x = 10 + i * step
        parts.append(
            f'<g class="bin" data-count="{n}"><title>{low:.1f}–{high:.1f}: {n} files</title>'
            f'<rect x="{x + 2:.1f}" y="{top + HISTOGRAM_HEIGHT - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}"/>'
            + (f'<text x="{x + step / 2:.1f}" y="{top + HISTOGRAM_HEIGHT - h - 4:.1f}" '
               f'text-anchor="middle">{n:,}</text>' if n else "") + "</g>")
    for i in range(0, HISTOGRAM_BINS + 1, 2):
        parts.append(f'<text class="axis" x="{10 + i * step:.1f}" y="{height - 4}" '
                     f'text-anchor="middle">{i / HISTOGRAM_BINS:.1f}</text>')
    parts.append("</svg>")
    return "".join(parts)


@functools.cache
def _asset(name: str) -> str:
    """The page's template, style sheet or script: review.html, review.css and
    review.js beside this module (package data). The script puts everything
    from the records into the DOM through textContent / properties only (no
    innerHTML), so file names stay text."""
    return importlib.resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
