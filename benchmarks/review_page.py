"""How fast the HTML review page opens, sorts and filters in headless Chromium.

    python benchmarks/review_page.py [--files 20000] [--repeat 3] [--against REV]

Builds report records shaped like a real scan's (10 genres each, folders of
12 tracks with album tags, 3 % errors, 10 % unsure, a plan per file), renders
the page with ``tagger.report.review.render`` and opens it from disk in Chromium
(tests/browser.py). Prints, per repeat: the page's size, Python's render time,
the time from navigation start to the table's first rows (the page's
``tagger-review-rendered`` performance mark) and to the load event, and the
in-page time of a header click (sort), of typing a filter and of "Show all"
(each until the browser has drawn the next frame: the layout and painting it
causes are included, also those a browser defers to that frame), and of
"Show all" until the frame after its last row is in; then, on this
checkout's page with every row in, deciding: an album's choice, a track's,
a typed genre, accepting every album's proposal one after another, and
"Export decisions" (each until the next frame). Synthetic
records: the page's cost depends on how many there are, not on what the model
said.

``--against REV`` also renders the page with tagger as of git revision REV
(exported.py: the commit's tagger/ in a folder of its own, rendered in a
child process running that code) and measures both pages in the same run,
alternating, then prints each figure's ratio (REV / this checkout).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import exported  # noqa: E402
from browser import Chromium, find_chromium  # noqa: E402
from tagger.report.review import render  # noqa: E402

GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
TRACKS_PER_ALBUM = 12


def records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        album = i // TRACKS_PER_ALBUM
        path = f"/home/user/Music/Artist {album // 3}/Album {album}/{i % TRACKS_PER_ALBUM + 1:02d} Track {i}.flac"
        if rng.random() < 0.03:
            out.append({"path": path, "status": "error", "genres": [], "error": "not an audio file, or a format ffmpeg cannot read",
                        "current_genres": [], "duration": None, "from_cache": False, "album": None,
                        "unsure": False, "action": "error", "action_reason": "not an audio file", "write_genres": []})
            continue
        weights = [rng.random() ** 3 for _ in GENRES]
        total = sum(weights)
        genres = sorted(({"genre": g, "confidence": round(w / total, 4)} for g, w in zip(GENRES, weights)),
                        key=lambda g: -g["confidence"])
        current = [rng.choice(GENRES).title()] if rng.random() < 0.3 else []
        writes = genres[0]["confidence"] >= 0.5 and not current
        out.append({"path": path, "status": "ok", "genres": genres, "error": None, "current_genres": current,
                    "duration": round(rng.uniform(120, 400), 2), "from_cache": True, "album": f"Album {album}",
                    "unsure": rng.random() < 0.1,
                    "action": "write" if writes else ("keep existing" if current else "below threshold"),
                    "action_reason": "top genre", "write_genres": [genres[0]["genre"].title()] if writes else []})
    return out


# An in-page action's time until the next frame is drawn: rAF runs before
# that frame's style, layout and paint, the timeout just after them.
TIMED = """new Promise(done => {{ const t = performance.now(); {action}; document.body.offsetHeight;
    requestAnimationFrame(() => setTimeout(() => done(performance.now() - t))); }})"""
# "Show all": until the frame after the click is drawn, and until the frame
# after the last row is in (the page may add rows over several frames).
SHOW_ALL = """new Promise(done => { const t = performance.now(), times = [];
    document.getElementById('all').click(); document.body.offsetHeight;
    requestAnimationFrame(() => setTimeout(() => times.push(performance.now() - t)));
    (function wait() {
      if (!document.getElementById('more-bar').hidden) return requestAnimationFrame(wait);
      requestAnimationFrame(() => setTimeout(() => done([times[0] || performance.now() - t,
                                                         performance.now() - t])));
    })(); })"""
FIGURES = ("first rows", "load event", "sort click", "sort again", "filter typed", "show all",
           "all rows in")

# Deciding, on the page with every row in (Show all): each until the next frame
# is drawn. A choice is a click on a row's decision button, then on an item of
# the menu it opens; a typed genre an input event.
CHOOSE = "{button}.click(); document.querySelector('#menu button[data-value{match}]').click()"
FILE_BUTTON = "document.querySelectorAll('#rows tr.file button.choose')[{}]"
DECIDE = {
    "menu opened": FILE_BUTTON.format(1) + ".click()",
    "album decided": CHOOSE.format(button="document.querySelector('#rows tr.group button.choose')",
                                   match='^="accept:"'),
    "track decided": CHOOSE.format(button=FILE_BUTTON.format(1), match='^="pick:"'),
    "genre typed": CHOOSE.format(button=FILE_BUTTON.format(2), match='="typed"')
                   + "; const i = " + FILE_BUTTON.format(2) + ".closest('td').querySelector('input.typed'); "
                   "i.value = 'Dream Pop'; i.dispatchEvent(new Event('input', {bubbles: true}))",
    # Every album's proposal accepted, one after another (in one task).
    "every album": "document.querySelectorAll('#rows tr.group button.choose').forEach(b => { "
                   + CHOOSE.format(button="b", match='^="accept:"') + "; })",
    "export": "document.getElementById('export').click()",
}


# Run by render_at's child: the page of the records on stdin, its render time on stderr.
RENDER_CHILD = """import json, sys, time
try:
    from tagger.report.review import render
except ImportError:  # a commit from before the package moved into subpackages
    from tagger.review import render
records = json.load(sys.stdin)
started = time.perf_counter()
html = render(records)
sys.stderr.write(str(time.perf_counter() - started))
sys.stdout.write(html)
"""


def timed(records: list[dict]) -> tuple[str, float]:
    """This checkout's page of ``records`` and Python's render time (s)."""
    started = time.perf_counter()
    html = render(records)
    return html, time.perf_counter() - started


def render_at(rev: str, folder: Path):
    """Like ``timed``, with tagger as of git revision ``rev`` (exported into
    ``folder``), in a child process running that code."""
    exported.export(rev, folder)
    env = exported.environment(folder)

    def run(records: list[dict]) -> tuple[str, float]:
        proc = subprocess.run([sys.executable, "-c", RENDER_CHILD], input=json.dumps(records),
                              env=env, cwd=folder, capture_output=True, text=True, check=True)
        return proc.stdout, float(proc.stderr.strip().splitlines()[-1])

    return run


def measure(page, path: Path, figures: dict) -> tuple[int, int]:
    """One round of every figure on the page at ``path``; (rows shown by the
    filter, rows after Show all of the unfiltered table)."""
    page.open("about:blank")
    page.open(path.as_uri())
    figures["first rows"].append(page.eval(
        "performance.getEntriesByName('tagger-review-rendered')[0].startTime"))
    figures["load event"].append(page.eval(
        "performance.getEntriesByType('navigation')[0].loadEventEnd"))
    assert page.eval("document.querySelectorAll('tr.file').length") > 0
    click = "document.querySelector('th[data-key=confidence]').click()"
    figures["sort click"].append(page.eval(TIMED.format(action=click)))
    figures["sort again"].append(page.eval(TIMED.format(action=click)))
    typed = ("const f = document.getElementById('filter'); f.value = 'album 1'; "
             "f.dispatchEvent(new Event('input'))")
    figures["filter typed"].append(page.eval(TIMED.format(action=typed)))
    shown = page.eval("document.querySelectorAll('tr.file').length")
    page.eval("const f = document.getElementById('filter'); f.value = ''; "
              "f.dispatchEvent(new Event('input')); document.body.offsetHeight")
    first, last = page.eval(SHOW_ALL)  # every record
    figures["show all"].append(first)
    figures["all rows in"].append(last)
    return shown, page.eval("document.querySelectorAll('tr.file').length")


def measure_deciding(page, path: Path, figures: dict, downloads: Path) -> str:
    """One round of the deciding figures (every row shown): each action's time
    until the next frame, and the CPU time the page's main thread spent on it
    (which a busy machine stretches less); the decided bar's text."""
    page.open("about:blank")
    page.open(path.as_uri())
    page.download_to(downloads)
    page.eval(SHOW_ALL)
    for figure, action in DECIDE.items():
        before = page.metrics()["ThreadTime"]
        figures[figure].append(page.eval(TIMED.format(action=action)))
        figures[f"{figure} cpu"].append((page.metrics()["ThreadTime"] - before) * 1000)
    return page.eval("document.getElementById('decided').textContent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", metavar="REV", help="also measure the page of this git revision")
    args = parser.parse_args()
    recs = records(args.files)
    with tempfile.TemporaryDirectory() as tmp, Chromium(find_chromium()) as page:
        renders = {"this": timed}
        if args.against:
            renders[args.against] = render_at(args.against, Path(tmp) / "against")
        results = {name: {k: [] for k in FIGURES} for name in renders}
        paths = {}
        for name, fn in renders.items():
            html, python_s = fn(recs)
            paths[name] = Path(tmp) / f"review-{len(paths)}.html"
            paths[name].write_text(html, encoding="utf-8")
            print(f"{name}: {args.files} records: page {len(html.encode()) / 1e6:.1f} MB, "
                  f"rendered by Python in {python_s:.2f} s")
        for _ in range(args.repeat):
            for name in renders:  # alternating, so both see the same machine
                shown, after = measure(page, paths[name], results[name])
                if _ == 0:
                    print(f"{name}: filter 'album 1' shows {shown} rows; Show all of every "
                          f"record: {after} rows")
        deciding = {f"{k}{cpu}": [] for k in DECIDE for cpu in ("", " cpu")}
        for _ in range(args.repeat):
            bar = measure_deciding(page, paths["this"], deciding, Path(tmp) / "downloads")
        saved = Path(tmp) / "downloads" / "tagger-decisions.json"
        for _ in range(600):  # the browser writes the download after the click returns
            if saved.exists():
                break
            time.sleep(0.05)
        print(f"deciding (this): after every album: {bar}; exported {saved.stat().st_size / 1e6:.1f} MB")
        results["this"].update(deciding)
    for name, figures in results.items():
        print(f"-- {name}")
        for figure, values in figures.items():
            print(f"{figure:>17}: median {statistics.median(values):7.0f} ms  "
                  f"(runs: {', '.join(f'{v:.0f}' for v in values)})")
    if args.against:
        print(f"-- ratio {args.against} / this (median over median)")
        for figure in FIGURES:  # the deciding figures: this page only
            ratio = (statistics.median(results[args.against][figure])
                     / statistics.median(results["this"][figure]))
            print(f"{figure:>13}: {ratio:5.2f}x")


if __name__ == "__main__":
    main()
