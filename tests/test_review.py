"""The HTML review page: the renderer in plain Python, then the page itself in
headless Chromium (tests/browser.py): rows, charts, sorting, filtering,
grouping, and file names that try to be HTML.

The browser tests need Chromium (Debian: ``apt-get install chromium``; or
TAGGER_CHROMIUM=/path/to/chrome). Without it they fail, so CI cannot pass by
skipping them, unless TAGGER_SKIP_BROWSER_TESTS=1 says to skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from browser import Chromium, find_chromium
import tagger
from tagger.report import review
from tagger.cli import app
from tagger.errors import TaggerError
from tagger.report.render import write_report

SKIP_ENV = "TAGGER_SKIP_BROWSER_TESTS"
IMG = "<img src=x onerror=alert(1)>.mp3"
SCRIPT_CLOSE = "</script><script>alert(2)</script>.mp3"  # as a path: folders "<", "script><script>alert(2)<"
AUDIO = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a"}


def rec(path, genres=(), status="ok", error=None, current=(), action=None, write=(), reason="",
        **extra):
    """A record as report.record makes it (with a plan when ``action`` is given)."""
    out = {"path": path, "status": status,
           "genres": [{"genre": g, "confidence": c} for g, c in genres],
           "error": error, "current_genres": list(current), "duration": 30.0, "from_cache": False}
    if action is not None:
        out.update(action=action, action_reason=reason, write_genres=list(write))
    out.update(extra)
    return out


RECORDS = [
    rec("/music/Rock/Band – Album/01 one.flac", [("rock", 0.81), ("metal", 0.12), ("blues", 0.07)],
        action="write", write=["Rock"], reason="top genre", album="Album"),
    rec("/music/Rock/Band – Album/02 two.flac", [("rock", 0.55), ("pop", 0.45)], current=["Rock"],
        action="keep existing", reason="has genres Rock", album="Album"),
    rec("/music/Rock/Band – Album/03 three.flac", [("metal", 0.34), ("rock", 0.33), ("pop", 0.33)],
        action="below threshold", reason="top genre", album="Album", unsure=True),
    rec("/music/Jazz/take five.mp3", [("jazz", 0.93), ("blues", 0.07)], action="write", write=["Jazz"],
        reason="top genre", album=None, unsure=False),
    rec("/music/Jazz/broken.mp3", status="error", error="not an audio file, or a format ffmpeg cannot read",
        action="error", reason="not an audio file, or a format ffmpeg cannot read"),
    rec(f"/music/Odd/{IMG}", [("pop", 0.62), ("rock", 0.38)], action="write", write=["Pop"],
        reason="top genre"),
    rec(f"/music/Odd/{SCRIPT_CLOSE}", [("blues", 0.71), ("jazz", 0.29)], action="write",
        write=["Blues"], reason="top genre"),
]


def embedded(html: str) -> list[dict]:
    match = re.search(r'<script id="records" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


# -- the renderer, no browser ----------------------------------------------

def test_every_record_is_embedded_as_json_and_no_name_can_close_the_script():
    html = review.render(RECORDS)
    assert embedded(html) == RECORDS
    # Only the page's own two script elements close; names are \u003c-escaped.
    assert html.count("</script") == 2 and html.lower().count("<script") == 2
    assert "<!--" not in html and IMG not in html


def test_the_page_loads_nothing_from_anywhere():
    html = review.render(RECORDS)
    page = html.replace(re.search(r'type="application/json">(.*?)</script>', html, re.S).group(1), "")
    for needle in ("http:", "https:", "file://", "src=", "href=", "@import", "<link", "<img",
                   "<iframe", "<object", "<embed", "fetch(", "XMLHttpRequest", "import("):
        assert needle not in page.lower(), needle
    # No CSS url(); the one URL the page makes is a Blob's, for "Export decisions".
    assert re.findall(r"\w*url\(", page.lower()) == ["createobjecturl(", "revokeobjecturl("]
    assert not re.search(r"""["'(=]\s*//""", page)  # no protocol-relative URL
    # And the page forbids any load that might slip in, whatever it is.
    assert "default-src 'none'" in page


def test_a_name_that_is_not_utf8_still_writes_a_page(tmp_path):
    name = os.fsdecode(b"/music/caf\xe9.mp3")  # latin-1 bytes, kept as a lone surrogate
    records = [rec(name, [("jazz", 1.0)])]
    out = tmp_path / "review.html"
    assert write_report(out, records) == "html"
    assert embedded(out.read_text(encoding="utf-8")) == records


def test_the_header_counts_files_errors_unsure_and_writes():
    assert review.counts(RECORDS) == {"files": 7, "analysed": 6, "errors": 1, "unsure": 1,
                                      "would write": 4}
    # Records without a plan (tagger report) have no "would write" figure.
    assert review.counts([rec("/a.mp3", [("jazz", 1.0)])])["would write"] is None


def test_the_charts_have_a_bar_per_genre_and_a_bin_per_tenth():
    html = review.render(RECORDS)
    bars = re.findall(r'<g class="bar" data-genre="([^"]*)" data-count="(\d+)"', html)
    assert dict(bars) == {"rock": "2", "metal": "1", "jazz": "1", "pop": "1", "blues": "1"}
    assert bars[0] == ("rock", "2")  # most files first
    assert review.confidence_bins(RECORDS) == [0, 0, 0, 1, 0, 1, 1, 1, 1, 1]
    assert len(re.findall(r'<g class="bin"', html)) == review.HISTOGRAM_BINS


def test_genre_names_in_the_chart_are_escaped():
    html = review.genre_chart([rec("/a.mp3", [("<b>x</b>", 1.0)])])
    assert "<b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_write_report_picks_the_page_by_suffix_and_names_the_formats(tmp_path):
    assert write_report(tmp_path / "r.HTML", RECORDS) == "html"
    assert embedded((tmp_path / "r.HTML").read_text(encoding="utf-8")) == RECORDS
    with pytest.raises(TaggerError, match="must end in .json, .csv or .html"):
        write_report(tmp_path / "r.txt", RECORDS)


# -- the page in Chromium ----------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"no Chromium, and {SKIP_ENV}=1")
        pytest.fail("headless Chromium is needed for the review page tests: install it "
                    "(Debian: apt-get install chromium) or set TAGGER_CHROMIUM=/path/to/chromium; "
                    f"{SKIP_ENV}=1 skips these tests")
    with Chromium(executable) as chromium:
        yield chromium


@pytest.fixture
def page(browser, tmp_path):
    """Open a page of records (default RECORDS), optionally with a #fragment."""
    def open_page(records=RECORDS, fragment=""):
        path = tmp_path / "review.html"
        write_report(path, records)
        browser.open("about:blank")
        browser.open(path.as_uri() + fragment)
        return browser
    return open_page


@pytest.mark.parametrize("skip, outcome", [("", "1 error"), ("1", "1 skipped")])
def test_without_chromium_the_browser_tests_fail_unless_told_to_skip(skip, outcome):
    env = {**os.environ, "TAGGER_CHROMIUM": "/nonexistent/chromium", SKIP_ENV: skip}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                           "-k", "url_fragment_sets"], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).parent, timeout=300)
    assert outcome in proc.stdout, proc.stdout
    assert proc.returncode == (0 if skip else 1)
    if not skip:
        assert "headless Chromium is needed for the review page tests" in proc.stdout


def visible(browser, what="dataset.index"):
    return browser.eval(f"Array.from(document.querySelectorAll('#rows tr.file')).map(tr => tr.{what})")


def indexes(browser):
    return [int(i) for i in visible(browser)]


def test_a_scanned_library_opens_with_a_row_per_file_and_a_chart(music, db, tmp_path, browser):
    """A real scan of generated audio (and a broken file, and names that look
    like HTML) through the CLI; then tagger report of the cache."""
    (music / "Jazz" / "broken.mp3").write_text("not audio")
    shutil.copy(music / "Jazz" / "noise track.mp3", music / "Jazz" / IMG)
    (music / SCRIPT_CLOSE).parent.mkdir(parents=True)
    shutil.copy(music / "Jazz" / "noise track.mp3", music / SCRIPT_CLOSE)
    out = tmp_path / "review.html"
    result = CliRunner().invoke(app, ["scan", str(music), "--db", str(db), "--report", str(out),
                                      "-j", "2", "-q"])
    assert result.exit_code == 1, result.output  # the broken file
    files = sorted(str(p) for p in music.rglob("*")
                   if p.suffix in AUDIO and ".hidden" not in p.parts)
    assert len(files) == 9
    records = embedded(out.read_text(encoding="utf-8"))
    assert sorted(r["path"] for r in records) == files

    browser.open(out.as_uri())
    assert browser.errors == [] and browser.dialogs == []
    assert sorted(visible(browser, "querySelector('td.file').title")) == files
    # The charts against counts made here from the cache, not by the page's code.
    analysed = [r for r in tagger.cached(db=db) if r.status == "ok"]
    assert len(analysed) == 8
    bars = browser.eval("Array.from(document.querySelectorAll('#genre-chart .bar'))"
                        ".map(b => [b.dataset.genre, +b.dataset.count])")
    assert dict(bars) == {g: sum(r.genres[0][0] == g for r in analysed)
                          for g in {r.genres[0][0] for r in analysed}}
    bins = browser.eval("Array.from(document.querySelectorAll('#confidence-chart .bin'))"
                        ".map(b => +b.dataset.count)")
    tenths = [min(int(round(r.genres[0][1], 4) * 10), 9) for r in analysed]  # as reported
    assert bins == [tenths.count(i) for i in range(10)]
    assert browser.eval("document.querySelectorAll('tr.file.error').length") == 1
    assert browser.eval("document.querySelectorAll('img').length") == 0
    assert browser.eval("document.querySelector('.stat[data-stat=files] b').textContent") == "9"
    # Folders read from the library's own name down; the rest is said once.
    folders = browser.eval("Array.from(document.querySelectorAll('#rows .folder')).map(f => f.textContent)")
    assert sorted(folders) == sorted({str(Path(f).parent.relative_to(music.parent)) for f in files})
    assert browser.eval("document.getElementById('base').textContent") == f"in {music.parent}/"
    browser.screenshot(tmp_path / "review.png")
    assert (tmp_path / "review.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    again = tmp_path / "again.html"
    result = CliRunner().invoke(app, ["report", str(music), "--db", str(db), "--report", str(again), "-q"])
    assert result.exit_code == 0, result.output
    browser.open(again.as_uri())
    assert sorted(visible(browser, "querySelector('td.file').title")) == files
    assert browser.errors == []


def test_file_names_that_look_like_html_show_as_text(page):
    browser = page(fragment="#group=0")
    assert browser.errors == [] and browser.dialogs == []
    assert browser.eval("document.querySelectorAll('img, #rows script').length") == 0
    names = visible(browser, "querySelector('td.file').textContent")
    assert f"/music/Odd/{IMG}" in names and f"/music/Odd/{SCRIPT_CLOSE}" in names
    assert len(names) == len(RECORDS)


def test_rows_are_grouped_by_folder_with_the_album_tag(page):
    browser = page()
    groups = browser.eval("Array.from(document.querySelectorAll('#rows tr.group')).map(tr => "
                          "Array.from(tr.querySelectorAll('.folder, .album')).map(e => e.textContent).join(''))")
    # Folders in the order of their first file ("</script>..." sorts before "<img...").
    assert groups == ["/music/Jazz2 files", "/music/Odd/</script><script>alert(2)<1 file",
                      "/music/Odd1 file", "/music/Rock/Band – Albumalbum: Album3 files"]
    # Each row sits under its folder, named by its file name only.
    order = browser.eval("Array.from(document.querySelectorAll('#rows tr'))"
                         ".map(tr => tr.className + ':' + (tr.querySelector('.folder') || tr.firstChild).textContent)")
    assert order[:3] == ["group:/music/Jazz", "file error:broken.mp3", "file ok:take five.mp3"]
    assert order[-3:] == ["file ok:01 one.flac", "file ok:02 two.flac", "file unsure:03 three.flac"]


def test_errors_and_unsure_rows_are_marked(page):
    browser = page()
    marked = dict(browser.eval("Array.from(document.querySelectorAll('#rows tr.file'))"
                               ".map(tr => [tr.dataset.index, tr.querySelector('.badge').textContent])"))
    assert marked == {"0": "ok", "1": "ok", "2": "unsure", "3": "ok", "4": "error", "5": "ok", "6": "ok"}
    error_row = browser.eval("document.querySelector('tr.file.error').textContent")
    assert "error: not an audio file, or a format ffmpeg cannot read" in error_row
    write = browser.eval("document.querySelector('tr.file[data-index=\"0\"] td.action').textContent")
    assert write == "write Rocktop genre"


def test_clicking_a_header_sorts_and_clicking_again_reverses(page):
    browser = page()
    browser.click("#group")  # one flat list
    browser.click("th[data-key=confidence]")
    # Error rows have no confidence: they come first, then 0.34 ... 0.93.
    assert indexes(browser) == [4, 2, 1, 5, 6, 0, 3]
    assert browser.eval("document.querySelector('th[data-key=confidence]').getAttribute('aria-sort')") == "ascending"
    browser.click("th[data-key=confidence]")
    assert indexes(browser) == [3, 0, 6, 5, 1, 2, 4]
    assert browser.eval("location.hash") == "#sort=confidence&dir=desc&group=0"
    browser.click("th[data-key=file]")
    assert indexes(browser) == [4, 3, 6, 5, 0, 1, 2]


def test_sorting_keeps_folders_together_ordered_by_their_first_row(page):
    browser = page()
    browser.click("th[data-key=confidence]")
    assert indexes(browser) == [4, 3, 2, 1, 0, 5, 6]


def test_the_filter_box_and_selects_narrow_the_rows(page):
    browser = page(fragment="#group=0")
    browser.type("#filter", "ROCK")  # any field, any case: path, genres, current, write text
    assert indexes(browser) == [5, 0, 1, 2]
    browser.choose("#action", "write")
    assert indexes(browser) == [5, 0]
    assert browser.eval("document.getElementById('count').textContent") == \
        "showing 2 of 2 matching files (7 in all)"
    browser.eval("const f = document.getElementById('filter'); f.value = ''; "
                 "f.dispatchEvent(new Event('input'))")
    browser.choose("#action", "")
    browser.choose("#status", "error")
    assert indexes(browser) == [4]
    browser.choose("#status", "unsure")
    assert indexes(browser) == [2]
    browser.choose("#status", "")
    browser.click('#genre-chart .bar[data-genre="jazz"]')  # a bar filters by its genre
    assert indexes(browser) == [3]
    assert browser.eval("document.getElementById('genre').value") == "jazz"


def test_the_header_figures_are_shortcuts(page):
    browser = page()
    browser.click(".stat[data-stat=errors]")
    assert indexes(browser) == [4]
    browser.click('.stat[data-stat="would write"]')
    assert sorted(indexes(browser)) == [0, 3, 5, 6]
    browser.click(".stat[data-stat=files]")
    assert len(indexes(browser)) == 7


def test_the_url_fragment_sets_the_view(page):
    browser = page(fragment="#sort=confidence&dir=desc&status=ok&group=0&q=music")
    assert indexes(browser) == [3, 0, 6, 5, 1]
    assert browser.eval("document.getElementById('status').value") == "ok"
    assert browser.eval("document.getElementById('filter').value") == "music"


def test_a_large_page_shows_rows_in_chunks(page):
    n = review.CHUNK_ROWS + 20
    records = [rec(f"/music/A{i // 10}/{i:05d}.mp3", [("rock", 0.5 + i / (2 * n))]) for i in range(n)]
    browser = page(records)
    assert len(indexes(browser)) == review.CHUNK_ROWS
    assert browser.eval("document.getElementById('more').textContent") == "Show 20 more"
    click_settled(browser, "#more")  # below 500 rows: they can move it as they come on screen
    assert indexes(browser) == list(range(n))
    assert browser.eval("document.getElementById('more-bar').hidden") is True
    # Records without a plan (tagger report): "–" for what --write would do.
    assert browser.eval("document.querySelector('#rows tr.file td.action').textContent") == "–"
    assert browser.eval("document.querySelector('.stat[data-stat=\"would write\"]').textContent") == "– would write"
    assert browser.eval("document.querySelectorAll('.stat.link').length") == 3  # files, errors, unsure
    assert browser.eval("document.getElementById('action').hidden") is True


def all_in(browser, timeout: float = 120.0) -> None:
    """Wait until "Show all" has added every row (it adds them over frames)."""
    deadline = time.monotonic() + timeout
    while not browser.eval("document.getElementById('more-bar').hidden"):
        assert time.monotonic() < deadline, "Show all did not finish"
        time.sleep(0.05)


def next_frame(browser, frames: int = 1) -> None:
    """Wait until the browser has drawn ``frames`` frames."""
    for _ in range(frames):
        browser.eval("new Promise(done => requestAnimationFrame(() => setTimeout(done)))")


def click_settled(browser, selector: str) -> None:
    """Click an element once the rows around it are drawn: rows coming on
    screen take their real height, which can move it after it was found."""
    browser.eval(f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'center'}})")
    next_frame(browser, 2)
    browser.click(selector)


def large(n: int) -> list[dict]:
    """``n`` records in folders of 10, their confidence rising with the index."""
    return [rec(f"/music/A{i // 10:04d}/{i:05d}.mp3", [("rock", 0.5 + i / (2 * n))],
                action="write", write=["Rock"], reason="top genre", album=f"Album {i // 10}")
            for i in range(n)]


def test_show_all_adds_every_row_and_renders_only_those_on_screen(page):
    """"Show all" on a large page: every row comes, in order, and the browser
    lays out and paints only the rows on screen (content-visibility), which
    is what keeps it quick on 20,000 files."""
    n = 3 * review.CHUNK_ROWS
    browser = page(large(n))
    click_settled(browser, "#all")
    all_in(browser)
    assert indexes(browser) == list(range(n))
    assert browser.eval("document.getElementById('count').textContent") == \
        f"showing {n:,} of {n:,} matching files ({n:,} in all)"
    browser.eval("window.scrollTo(0, 0)")  # the click scrolled to the button
    next_frame(browser, 2)  # one frame finds the rows on screen, the next draws them
    # A row skipped by the browser's rendering: its cells are "not visible".
    rendered = browser.eval("Array.from(document.querySelectorAll('#rows tr'))"
                            ".map(tr => tr.firstChild.checkVisibility({contentVisibilityAuto: true}))")
    assert rendered[0] is True and rendered[-1] is False
    assert sum(rendered) < len(rendered) / 10  # about a screenful of the 1,650 rows
    browser.eval("document.querySelector('#rows tr:last-child').scrollIntoView()")
    next_frame(browser, 2)
    assert browser.eval("document.querySelector('#rows tr:last-child').firstChild"
                        ".checkVisibility({contentVisibilityAuto: true})") is True
    assert browser.errors == []


def test_a_sort_while_show_all_fills_shows_the_new_order_only(page):
    n = 3 * review.CHUNK_ROWS
    browser = page(large(n), fragment="#group=0")
    browser.eval("document.getElementById('all').click(); "
                 "document.querySelector('th[data-key=confidence]').click(); "
                 "document.querySelector('th[data-key=confidence]').click()")
    next_frame(browser, 5)  # frames in which a fill still running would add rows
    assert indexes(browser) == list(range(n - 1, n - 1 - review.CHUNK_ROWS, -1))
    click_settled(browser, "#all")
    all_in(browser)
    assert indexes(browser) == list(range(n - 1, -1, -1))


def test_the_columns_line_up_with_their_headers(page):
    browser = page(large(30))
    edges = browser.eval("""(() => {
        const rows = document.querySelectorAll('#rows tr.file');
        return [document.querySelector('thead tr'), rows[0], rows[rows.length - 1]].map(tr =>
            Array.from(tr.children).map(c => { const r = c.getBoundingClientRect();
                return [Math.round(r.left), Math.round(r.width)]; })); })()""")
    header, first, last = edges
    assert len(header) == 7 and header == first == last
    assert all(width > 40 for _, width in header)
    left, right = browser.eval("(() => { const r = document.querySelector('#rows tr.group td')"
                               ".getBoundingClientRect(); return [r.left, r.right]; })()")
    assert abs(left - header[0][0]) <= 1 and abs(right - sum(header[-1])) <= 1


# -- deciding in the page ----------------------------------------------------

def decide(browser, row: str, value: str) -> None:
    """Click the decision button of ``row`` (a selector) and then the choice
    ``value`` in the menu it opens ("accept:rock", "pick:metal", "typed", "reject", "")."""
    click_settled(browser, f"{row} button.choose")
    browser.click(f'#menu button[data-value="{value}"]')


def exported(browser, folder: Path, timeout: float = 60.0) -> dict:
    """Click "Export decisions" and read the file the browser saves in ``folder``."""
    browser.download_to(folder)
    saved = folder / "tagger-decisions.json"
    browser.click("#export")
    deadline = time.monotonic() + timeout
    while not saved.exists():
        assert time.monotonic() < deadline, "no download"
        time.sleep(0.05)
    return json.loads(saved.read_text(encoding="utf-8"))


def test_a_track_decision_wins_over_its_album_and_decisions_survive_a_re_sort(page, tmp_path):
    browser = page()
    album = 'tr.group[data-folder="/music/Rock/Band – Album"]'
    click_settled(browser, f"{album} button.choose")
    menu = browser.eval("Array.from(document.querySelectorAll('#menu button'))"
                        ".map(b => [b.dataset.value, b.textContent])")
    # The album's candidates as album consensus ranks them: rock tops two tracks of three.
    assert menu == [["accept:rock", "accept rock 56%"], ["pick:metal", "pick metal 15%"],
                    ["pick:pop", "pick pop 26%"], ["typed", "type a genre…"],
                    ["reject", "reject: leave as it is"], ["", "undecided (each track its own)"]]
    browser.click("h1")  # a click elsewhere closes the menu, choosing nothing
    assert browser.eval("document.getElementById('menu').hidden") is True
    assert browser.eval("document.getElementById('decided').textContent") == "0 of 6 files decided"
    assert browser.eval("document.getElementById('export').disabled") is True
    decide(browser, album, "accept:rock")
    assert browser.eval("document.getElementById('menu').hidden") is True
    decide(browser, 'tr.file[data-index="2"]', "pick:pop")
    decide(browser, 'tr.file[data-index="3"]', "typed")
    browser.type('tr.file[data-index="3"] input.typed', "Cool Jazz;  Bop ")
    decide(browser, 'tr.file[data-index="5"]', "reject")
    assert browser.eval("document.getElementById('decided').textContent") == \
        "5 of 6 files decided (1 rejected)"
    outcomes = browser.eval("Array.from(document.querySelectorAll('#rows tr.file'))"
                            ".map(tr => [+tr.dataset.index, tr.className, tr.querySelector('.outcome') "
                            "&& tr.querySelector('.outcome').textContent])")
    assert sorted(outcomes) == [
        [0, "file ok decided", "→ rock (album)"], [1, "file ok decided", "→ rock (album)"],
        [2, "file unsure decided", "→ pop"], [3, "file ok decided", "→ Cool Jazz; Bop"],
        [4, "file error", ""], [5, "file ok rejected", "left as it is"], [6, "file ok", ""]]
    browser.click("th[data-key=confidence]")  # the rows are drawn again
    buttons = browser.eval("Array.from(document.querySelectorAll('#rows button.choose'))"
                           ".map(b => b.textContent)")
    # Each folder's album (three of one file) and each analysed file: the error has none.
    assert sorted(buttons) == sorted(["album: accept rock ▾"] + ["album: decide ▾"] * 3 + [
        "decide ▾", "decide ▾", "pick pop ▾", "typed ▾", "rejected ▾", "decide ▾"])
    assert browser.eval("document.querySelector('tr.file[data-index=\"3\"] input.typed').value") == "Cool Jazz; Bop"
    saved = exported(browser, tmp_path / "downloads")
    assert saved["format"] == "tagger-decisions" and saved["version"] == 1
    assert saved["decisions"] == [
        {"path": RECORDS[0]["path"], "verdict": "accept", "genres": ["rock"], "current_genres": []},
        {"path": RECORDS[1]["path"], "verdict": "accept", "genres": ["rock"], "current_genres": ["Rock"]},
        {"path": RECORDS[2]["path"], "verdict": "pick", "genres": ["pop"], "current_genres": []},
        {"path": RECORDS[3]["path"], "verdict": "typed", "genres": ["Cool Jazz", "Bop"],
         "current_genres": []},
        {"path": RECORDS[5]["path"], "verdict": "reject", "genres": [], "current_genres": []}]
    decide(browser, album, "")  # the album undecided again: its tracks without their own choice too
    assert browser.eval("document.getElementById('decided').textContent") == \
        "3 of 6 files decided (1 rejected)"
    assert browser.errors == []


def test_decisions_made_in_the_page_are_what_tagger_apply_writes(music, db, tmp_path, browser,
                                                                 trusting_model):
    """A real scan's page: accept an album, pick another candidate for one
    track, reject one, type a genre for another, export; then that file changes
    after the report; tagger apply writes exactly the rest, and undo undoes it."""
    from tagger import api, tags
    from tagger.writing.policy import DEFAULT_DISPLAY_NAMES, album_ranking

    out = tmp_path / "review.html"
    result = CliRunner().invoke(app, ["scan", str(music), "--db", str(db), "--model",
                                      str(trusting_model), "--report", str(out), "-q"])
    assert result.exit_code == 0, result.output
    records = embedded(out.read_text(encoding="utf-8"))
    index = {Path(r["path"]): i for i, r in enumerate(records)}
    album = music / "Rock" / "Band – Album"
    noise, drums = music / "Jazz" / "noise track.mp3", music / "Jazz" / "Sub Folder" / "drums.ogg"
    m4a = music / "Misc" / "aac tone.m4a"
    files = sorted(index)
    before = {p: tags.read_genres(p) for p in files}
    proposal = album_ranking(api.cached([album], db=db))[0][0]  # the page ranks an album's candidates as Python does
    second = records[index[noise]]["genres"][1]["genre"]

    browser.open(out.as_uri())
    row = 'tr.file[data-index="{}"]'.format
    decide(browser, f'tr.group[data-folder="{album}"]', f"accept:{proposal}")
    decide(browser, row(index[noise]), f"pick:{second}")
    decide(browser, row(index[drums]), "reject")
    decide(browser, row(index[m4a]), "typed")
    browser.type(f'tr.file[data-index="{index[m4a]}"] input.typed', "Dream Pop")
    assert browser.eval("document.getElementById('decided').textContent") == \
        "5 of 6 files decided (1 rejected)"
    assert browser.eval("document.getElementById('decided-meter').value") == 5
    saved = exported(browser, tmp_path / "downloads")
    assert browser.errors == []
    assert sorted(d["path"] for d in saved["decisions"]) == sorted(
        str(p) for p in [*album.iterdir(), noise, drums, m4a])

    tags.write_genres(m4a, ["Changed after the report"])
    applied = CliRunner().invoke(app, ["apply", str(tmp_path / "downloads" / "tagger-decisions.json"),
                                       "--db", str(db)])
    assert applied.exit_code == 1
    assert applied.output == (
        f"{m4a}: not written: changed since it was analysed; scan again\n"
        f"Write run 1: 3 files written, 1 failed. Undo with: tagger undo 1 --db {db}\n")
    display = DEFAULT_DISPLAY_NAMES.get
    assert {p: tags.read_genres(p) for p in files} == {
        **before, **{p: [display(proposal, proposal)] for p in album.iterdir()},
        noise: [display(second, second)], m4a: ["Changed after the report"]}
    undone = CliRunner().invoke(app, ["undo", "--db", str(db)])
    assert undone.output == "Undo of write run 1: 3 restored\n"
    assert {p: tags.read_genres(p) for p in files} == {**before, m4a: ["Changed after the report"]}
