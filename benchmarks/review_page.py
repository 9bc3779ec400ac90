"""How fast the HTML review page opens, sorts and filters in headless Chromium.

    python benchmarks/review_page.py [--files 20000] [--repeat 3]

Builds report records shaped like a real scan's (10 genres each, folders of
12 tracks with album tags, 3 % errors, 10 % unsure, a plan per file), renders
the page with ``tagger.review.render`` and opens it from disk in Chromium
(tests/browser.py). Prints, per repeat: the page's size, Python's render time,
the time from navigation start to the table's first rows (the page's
``tagger-review-rendered`` performance mark) and to the load event, and the
in-page time of a header click (sort), of typing a filter and of "Show all"
(each includes the layout it forces). Synthetic records: the page's cost
depends on how many there are, not on what the model said.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import Chromium, find_chromium  # noqa: E402
from tagger.review import render  # noqa: E402

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


TIMED = """(() => {{ const t = performance.now(); {action}; document.body.offsetHeight;
    return performance.now() - t; }})()"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    recs = records(args.files)
    started = time.perf_counter()
    html = render(recs)
    python_s = time.perf_counter() - started
    figures = {k: [] for k in ("first rows", "load event", "sort click", "sort again", "filter typed", "show all")}
    with tempfile.TemporaryDirectory() as tmp, Chromium(find_chromium()) as page:
        path = Path(tmp) / "review.html"
        path.write_text(html, encoding="utf-8")
        print(f"{args.files} records: page {len(html.encode()) / 1e6:.1f} MB, "
              f"rendered by Python in {python_s:.2f} s")
        for _ in range(args.repeat):
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
            figures["show all"].append(page.eval(TIMED.format(
                action="document.getElementById('all').click()")))
            after = page.eval("document.querySelectorAll('tr.file').length")
        print(f"filter 'album 1' shows {shown} rows, {after} after Show all")
    for name, values in figures.items():
        print(f"{name:>13}: median {statistics.median(values):7.0f} ms  "
              f"(runs: {', '.join(f'{v:.0f}' for v in values)})")


if __name__ == "__main__":
    main()
