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
on screen. The view is kept
in the URL fragment, e.g. ``review.html#sort=confidence&dir=desc&q=rock``
(keys: sort, dir, q, status, action, genre, group=0), so it can be bookmarked.
"""

from __future__ import annotations

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
        "CSS": _CSS,
        "SCRIPT": _SCRIPT.replace("@CHUNK_ROWS@", str(CHUNK_ROWS)).replace(
            "@FILL_MS@", str(FILL_TASK_MS)).replace("@SEP@", json.dumps(os.sep)),
        "RECORDS": embed_json(records),
    }
    # One pass, so text substituted in (a file name, say) is never scanned again.
    return re.sub(r"@@(\w+)@@", lambda m: fields[m.group(1)], _PAGE)


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


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>@@TITLE@@</title>
<style>@@CSS@@</style>
</head>
<body>
<header>
<h1>@@TITLE@@</h1>
<div id="summary">
@@SUMMARY@@
</div>
</header>
<section id="charts">
<figure id="genre-chart"><figcaption>Proposed genre (click a bar to filter)</figcaption>@@GENRE_CHART@@</figure>
<figure id="confidence-chart"><figcaption>Confidence of the proposed genre</figcaption>@@HISTOGRAM@@</figure>
</section>
<section id="files">
<div id="controls">
<input id="filter" type="search" placeholder="Filter: path, album, genre, error..." aria-label="filter">
<select id="status" aria-label="status"><option value="">any status</option><option value="ok">ok</option><option value="unsure">unsure</option><option value="error">error</option></select>
<select id="action" aria-label="action"><option value="">any action</option></select>
<select id="genre" aria-label="genre"><option value="">any genre</option></select>
<label><input id="group" type="checkbox" checked> group by folder</label>
<span id="count"></span> <span id="base"></span>
</div>
<table id="table" role="table">
<thead role="rowgroup"><tr role="row">
<th data-key="file" role="columnheader">File</th><th data-key="current" role="columnheader">Current</th><th data-key="proposed" role="columnheader">Proposed</th>
<th data-key="confidence" role="columnheader">Confidence</th><th data-key="action" role="columnheader">--write would</th><th data-key="status" role="columnheader">Status</th>
</tr></thead>
<tbody id="rows" role="rowgroup"></tbody>
</table>
<p id="more-bar"><button id="more" type="button">Show more</button> <button id="all" type="button">Show all</button></p>
<noscript><p>The file table needs JavaScript; the same records are in this file as JSON.</p></noscript>
</section>
<script id="records" type="application/json">@@RECORDS@@</script>
<script>@@SCRIPT@@</script>
</body>
</html>
"""

_CSS = """
:root { --fg: #1d2430; --muted: #6a7280; --line: #e2e5ea; --accent: #3b6fd8; --bg: #fff;
        --err: #c62828; --err-bg: #fdecea; --unsure: #9a6700; --unsure-bg: #fff6d6; --group: #f3f5f8; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 8px; }
#summary { display: flex; flex-wrap: wrap; gap: 8px; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; color: var(--muted); }
.stat b { color: var(--fg); font-size: 16px; } .stat.link { cursor: pointer; } .stat.link:hover { border-color: var(--accent); }
.stat[data-stat=errors] b { color: var(--err); } .stat[data-stat=unsure] b { color: var(--unsure); }
#charts { display: flex; flex-wrap: wrap; gap: 24px; margin: 14px 0; }
figure { margin: 0; } figcaption { color: var(--muted); margin-bottom: 4px; }
svg text { font-size: 12px; fill: var(--fg); } svg text.axis { fill: var(--muted); }
.bar rect, .bin rect { fill: var(--accent); } .bar { cursor: pointer; }
.bar:hover rect, .bar.selected rect { fill: #1f4fb0; }
#controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
#filter { width: 22em; padding: 4px 6px; } select { padding: 3px; } #count, #base { color: var(--muted); }
/* Each row is a grid of fixed column shares, so no row's width depends on
   another's and a browser lays out and paints only the rows on screen
   (content-visibility): "Show all" on 20,000 files stays quick. */
#table, #table thead, #rows { display: block; width: 100%; }
#table tr { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 1fr) minmax(0, 2fr) 8em minmax(0, 1.6fr) 6.5em; }
/* Heights assumed for rows not drawn yet: a group row's, and a file row's with
   its --write reason line (27 and 43 px in Chromium), so rows coming on
   screen move the page little. */
#rows tr { content-visibility: auto; contain-intrinsic-size: auto 27px; }
#rows tr.file { contain-intrinsic-size: auto 43px; }
#rows tr.group td { grid-column: 1 / -1; }
#table thead { position: sticky; top: 0; z-index: 1; background: var(--bg); }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); }
th { cursor: pointer; user-select: none; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
td.file { word-break: break-all; } td.confidence { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.group td { background: var(--group); font-weight: 600; }
tr.group .album { font-weight: 400; color: var(--muted); margin-left: 8px; }
tr.error td { background: var(--err-bg); } tr.unsure td { background: var(--unsure-bg); }
.muted, .reason { color: var(--muted); } .reason { font-size: 12px; display: block; }
.other { color: var(--muted); } .errtext { color: var(--err); }
code { background: #eef1f5; border-radius: 3px; padding: 0 3px; }
.badge { border-radius: 9px; padding: 0 8px; font-size: 12px; border: 1px solid var(--line); }
.badge.error { color: #fff; background: var(--err); border-color: var(--err); }
.badge.unsure { color: var(--unsure); border-color: var(--unsure); }
.meter { display: inline-block; width: 48px; height: 6px; background: var(--line); margin-left: 6px;
         vertical-align: middle; border-radius: 3px; overflow: hidden; }
.meter i { display: block; height: 100%; background: var(--accent); }
#more-bar[hidden] { display: none; }
"""

# The page's script. Everything from the records reaches the DOM through
# textContent / properties only (no innerHTML), so file names stay text.
_SCRIPT = r"""
(function () {
"use strict";
var CHUNK = @CHUNK_ROWS@;
var FILL_MS = @FILL_MS@;  // ms "Show all" adds rows for before letting the browser draw
var SEP = @SEP@;  // the separator of the paths, as on the machine that scanned them
var records = JSON.parse(document.getElementById("records").textContent);
var KEYS = ["file", "current", "proposed", "confidence", "action", "status"];
var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
var state = {sort: "file", dir: "asc", q: "", status: "", action: "", genre: "", group: true};
var $ = function (id) { return document.getElementById(id); };
var tbody = $("rows");
var items = [], shownRows = 0, shownItems = 0, matching = 0;

function folderOf(path) {
  var i = path.lastIndexOf(SEP);
  return i < 0 ? "" : path.slice(0, i);
}
function pct(c) { return Math.round(c * 100) + "%"; }

var rows = records.map(function (r, i) {
  var path = String(r.path), folder = folderOf(path);
  var genres = r.genres || [];
  var top = genres.length ? genres[0] : null;
  var state = r.status === "error" ? "error" : (r.unsure ? "unsure" : "ok");
  var row = {
    r: r, i: i, path: path, folder: folder, name: folder ? path.slice(folder.length + 1) : path,
    top: top ? top.genre : "", conf: top ? top.confidence : -1, state: state,
    action: r.action || "", current: (r.current_genres || []).join("; "),
    write: (r.write_genres || []).join("; "), album: r.album || ""
  };
  row.text = [path, row.album, row.current, genres.map(function (g) { return g.genre; }).join(" "),
              row.write, r.error || "", row.action, r.action_reason || "", state].join("\n").toLowerCase();
  return row;
});

// Folders are shown from the files' common folder down ("Music/Album"), the
// rest of the path once above the table.
var base = rows.length ? rows[0].folder : "";
rows.forEach(function (row) {
  while (base && row.folder !== base && row.folder.lastIndexOf(base + SEP, 0) !== 0) base = folderOf(base);
});
base = folderOf(base);
function shown(path) { return base ? path.slice(base.length + 1) : path; }
if (base) $("base").textContent = "in " + base + SEP;

var compare = {
  file: function (a, b) { return collator.compare(a.path, b.path); },
  current: function (a, b) { return collator.compare(a.current, b.current); },
  proposed: function (a, b) { return collator.compare(a.top, b.top); },
  confidence: function (a, b) { return a.conf - b.conf; },
  action: function (a, b) { return collator.compare(a.action, b.action); },
  status: function (a, b) { return collator.compare(a.state, b.state); }
};

function fillSelect(select, values) {
  values.forEach(function (v) {
    var o = document.createElement("option");
    o.value = v; o.textContent = v;
    select.appendChild(o);
  });
}
function distinct(key) {
  var seen = {};
  rows.forEach(function (row) { if (row[key]) seen[row[key]] = true; });
  return Object.keys(seen).sort(collator.compare);
}
var actions = distinct("action");
fillSelect($("action"), actions);
$("action").hidden = actions.length === 0;
fillSelect($("genre"), distinct("top"));

function select() {
  var q = state.q.toLowerCase();
  var chosen = rows.filter(function (row) {
    return (!q || row.text.indexOf(q) >= 0) && (!state.status || row.state === state.status) &&
           (!state.action || row.action === state.action) && (!state.genre || row.top === state.genre);
  });
  var cmp = compare[state.sort], sign = state.dir === "desc" ? -1 : 1;
  chosen.sort(function (a, b) { return sign * cmp(a, b) || collator.compare(a.path, b.path) || a.i - b.i; });
  matching = chosen.length;
  if (!state.group) return chosen;
  // Folders in the order of their first row under the current sort.
  var groups = new Map();
  chosen.forEach(function (row) {
    var g = groups.get(row.folder);
    if (!g) groups.set(row.folder, g = []);
    g.push(row);
  });
  var out = [];
  groups.forEach(function (members, folder) { out.push({group: folder, members: members}); out.push.apply(out, members); });
  return out;
}

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// Rows are clones of these blanks, their cells then filled: cheaper than
// building every cell of 20,000 rows one by one.
function blankRow(cls, cells) {
  var tr = el("tr", cls);
  tr.setAttribute("role", "row");
  cells.forEach(function (c) {
    var td = el("td", c);
    td.setAttribute("role", "cell");
    tr.appendChild(td);
  });
  return tr;
}
var BLANK_FILE = blankRow("file", KEYS), BLANK_GROUP = blankRow("group", [""]);
BLANK_FILE.lastChild.appendChild(el("span", "badge"));
var BLANK_METER = el("span", "meter");
BLANK_METER.appendChild(el("i"));

function groupRow(item) {
  var tr = BLANK_GROUP.cloneNode(true), td = tr.firstChild;
  td.appendChild(el("span", "folder", shown(item.group) || "(no folder)"));
  var albums = distinctOf(item.members, "album");
  if (albums.length) td.appendChild(el("span", "album", "album: " + albums.join(" / ")));
  td.appendChild(el("span", "album", item.members.length + (item.members.length === 1 ? " file" : " files")));
  return tr;
}
function distinctOf(members, key) {
  var seen = [];
  members.forEach(function (m) { if (m[key] && seen.indexOf(m[key]) < 0) seen.push(m[key]); });
  return seen;
}

function fileRow(row) {
  var r = row.r, tr = BLANK_FILE.cloneNode(true), cells = tr.children;
  tr.className = "file " + row.state;
  tr.dataset.index = row.i;
  var file = cells[0], current = cells[1], proposed = cells[2], conf = cells[3];
  var action = cells[4], status = cells[5];
  file.textContent = state.group ? row.name : shown(row.path);
  file.title = row.path;
  if (row.current) current.textContent = row.current;
  else { current.className = "current muted"; current.textContent = "–"; }
  if (r.status === "error") {
    proposed.appendChild(el("span", "errtext", "error: " + (r.error || "unknown")));
  } else {
    (r.genres || []).slice(0, 3).forEach(function (g, k) {
      if (k) proposed.appendChild(el("span", "other", " · " + g.genre + " " + pct(g.confidence)));
      else proposed.appendChild(el("b", "", g.genre));
    });
    if (row.conf >= 0) {
      conf.textContent = pct(row.conf);
      var meter = BLANK_METER.cloneNode(true);
      meter.firstChild.style.width = pct(row.conf);
      conf.appendChild(meter);
    }
  }
  if (row.action) {
    action.appendChild(el("span", "act", row.action));
    (r.write_genres || []).forEach(function (g) {
      action.appendChild(document.createTextNode(" "));
      action.appendChild(el("code", "", g));
    });
    if (r.action_reason) action.appendChild(el("span", "reason", r.action_reason));
  } else {
    action.appendChild(el("span", "muted", "–"));
  }
  status.firstChild.className = "badge " + row.state;
  status.firstChild.textContent = row.state;
  return tr;
}

function showMore(n, until) {
  var frag = document.createDocumentFragment(), limit = shownRows + n;
  while (shownItems < items.length && shownRows < limit && !(until && performance.now() > until)) {
    var item = items[shownItems];
    if (item.group !== undefined) {
      frag.appendChild(groupRow(item));
    } else {
      frag.appendChild(fileRow(item));
      shownRows++;
    }
    shownItems++;
  }
  tbody.appendChild(frag);
  var rest = matching - shownRows;
  $("count").textContent = "showing " + shownRows.toLocaleString() + " of " + matching.toLocaleString() +
    " matching files (" + rows.length.toLocaleString() + " in all)";
  $("more").textContent = "Show " + Math.min(CHUNK, rest).toLocaleString() + " more";
  $("all").textContent = "Show all " + rest.toLocaleString();
  $("more-bar").hidden = rest <= 0;
}

// "Show all" adds rows in tasks of FILL_MS until all are in, so the first
// ones show at once and the browser draws and takes input between tasks.
var filling = 0;
function showAll() {
  showMore(Infinity, performance.now() + FILL_MS);
  filling = shownItems < items.length ? setTimeout(showAll, 0) : 0;
}
function stopFilling() {
  clearTimeout(filling);
  filling = 0;
}

function render() {
  stopFilling();
  items = select();
  shownRows = 0; shownItems = 0;
  tbody.textContent = "";
  showMore(CHUNK);
  document.querySelectorAll("th[data-key]").forEach(function (th) {
    if (th.dataset.key === state.sort) th.setAttribute("aria-sort", state.dir === "desc" ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
  });
  document.querySelectorAll(".bar").forEach(function (bar) {
    bar.classList.toggle("selected", bar.getAttribute("data-genre") === state.genre);
  });
}

function readHash() {
  var p = new URLSearchParams(location.hash.slice(1));
  state.sort = KEYS.indexOf(p.get("sort")) >= 0 ? p.get("sort") : "file";
  state.dir = p.get("dir") === "desc" ? "desc" : "asc";
  state.q = p.get("q") || "";
  state.status = p.get("status") || "";
  state.action = p.get("action") || "";
  state.genre = p.get("genre") || "";
  state.group = p.get("group") !== "0";
  syncControls();
}
function syncControls() {
  $("filter").value = state.q;
  setSelect($("status"), state.status);
  setSelect($("action"), state.action);
  setSelect($("genre"), state.genre);
  $("group").checked = state.group;
}
function setSelect(sel, value) {
  if (value && !Array.prototype.some.call(sel.options, function (o) { return o.value === value; })) {
    fillSelect(sel, [value]);
  }
  sel.value = value;
}
function writeHash() {
  var p = new URLSearchParams();
  if (state.sort !== "file") p.set("sort", state.sort);
  if (state.dir !== "asc") p.set("dir", state.dir);
  ["q", "status", "action", "genre"].forEach(function (k) { if (state[k]) p.set(k, state[k]); });
  if (!state.group) p.set("group", "0");
  var hash = p.toString();
  try { history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search); } catch (e) { /* file: URLs in some browsers */ }
}
function update() { writeHash(); render(); }

document.querySelectorAll("th[data-key]").forEach(function (th) {
  th.addEventListener("click", function () {
    var key = th.dataset.key;
    state.dir = state.sort === key && state.dir === "asc" ? "desc" : "asc";
    state.sort = key;
    update();
  });
});
$("filter").addEventListener("input", function () { state.q = this.value; update(); });
["status", "action", "genre"].forEach(function (k) {
  $(k).addEventListener("change", function () { state[k] = this.value; update(); });
});
$("group").addEventListener("change", function () { state.group = this.checked; update(); });
document.querySelectorAll(".bar").forEach(function (bar) {
  bar.addEventListener("click", function () {
    var genre = bar.getAttribute("data-genre");
    state.genre = state.genre === genre ? "" : genre;
    setSelect($("genre"), state.genre);
    update();
  });
});
// The header's figures as shortcuts: all files, the errors, the unsure ones, the writes.
var STAT_VIEWS = {"files": {}, "errors": {status: "error"}, "unsure": {status: "unsure"},
                  "would write": {action: "write"}};
document.querySelectorAll(".stat").forEach(function (stat) {
  var view = STAT_VIEWS[stat.dataset.stat];
  if (!view || stat.dataset.empty) return;
  stat.classList.add("link");
  stat.addEventListener("click", function () {
    ["q", "status", "action", "genre"].forEach(function (k) { state[k] = view[k] || ""; });
    syncControls();
    update();
  });
});
$("more").addEventListener("click", function () { showMore(CHUNK); });
$("all").addEventListener("click", function () { stopFilling(); showAll(); });
window.addEventListener("hashchange", function () { readHash(); render(); });
readHash();
render();
performance.mark("tagger-review-rendered");
})();
"""
