"""Regenerate tests/data/review-page.png, the README's picture of the review page,
and tests/data/review-decisions.png, docs/review.md's picture of it with decisions:

    python tests/data/make_review_screenshot.py [--db /tmp/x.db]

Generates a small library (tests/audiofiles.py: tones, noise, drum-like
bursts in several formats, one file already tagged, one broken file), runs
``tagger scan Music --report review.html`` on it in a temporary folder (so the
paths read ``Music/...``) and saves a 1280 x 900 screenshot from headless
Chromium (tests/browser.py); then makes decisions as a person would (accept
the first album's proposal, pick another candidate for a track of the
second, type a genre for a single, reject another, open the menu of one
more) and saves a second one."""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from audiofiles import make_audio  # noqa: E402
from browser import Chromium, find_chromium  # noqa: E402

OUT = TESTS / "data" / "review-page.png"
DECIDED = TESTS / "data" / "review-decisions.png"
LIBRARY = {  # name -> (seconds, kind, metadata)
    "Music/Band – First Album/01 Tone.flac": (6.0, "tone", {"album": "First Album"}),
    "Music/Band – First Album/02 Drums.flac": (6.0, "drums", {"album": "First Album"}),
    "Music/Band – First Album/03 Noise.flac": (6.0, "noise", {"album": "First Album"}),
    "Music/Band – First Album/04 Quiet.flac": (6.0, "silence", {"album": "First Album"}),
    "Music/Band – Second Album/01 Drums.mp3": (6.0, "drums", {"album": "Second Album", "genre": "Rock"}),
    "Music/Band – Second Album/02 Tone.mp3": (6.0, "tone", {"album": "Second Album"}),
    "Music/Band – Second Album/03 Noise.mp3": (6.0, "noise", {"album": "Second Album"}),
    "Music/Singles/drums.ogg": (6.0, "drums", None),
    "Music/Singles/tone.opus": (6.0, "tone", None),
    "Music/Singles/noise.m4a": (6.0, "noise", None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the cache to use (default: one in the temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, (seconds, kind, metadata) in LIBRARY.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            make_audio(tmp / name, seconds, kind, metadata=metadata)
        (tmp / "Music/Singles/broken.mp3").write_bytes(b"not audio")
        env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
        subprocess.run([sys.executable, "-m", "tagger", "scan", "Music", "--db", args.db or str(tmp / "cache.db"),
                        "--report", "review.html", "-q"], cwd=tmp, env=env)
        with Chromium(find_chromium(), width=1280, height=900) as page:
            page.open((tmp / "review.html").as_uri())
            page.screenshot(OUT)
            decide(page, tmp / "Music")
            page.screenshot(DECIDED)
    for out in (OUT, DECIDED):
        print(f"wrote {out} ({out.stat().st_size / 1000:.0f} kB)")


def decide(page, music: Path) -> None:
    """The decisions in the second picture, made through the page's menus;
    the last menu is left open."""
    def choose(row: str, item: int | None) -> None:  # click the row's button, then a menu item
        page.click(f"{row} button.choose")
        if item is not None:
            page.click(f"#menu button:nth-child({item})")

    file = 'tr.file:has(td.file[title="{}"])'.format
    choose(f'tr.group[data-folder="{music / "Band – First Album"}"]', 1)  # accept the proposal
    choose(file(music / "Band – Second Album" / "02 Tone.mp3"), 2)  # the next candidate
    choose(file(music / "Singles" / "drums.ogg"), 4)  # type a genre
    page.type(f'{file(music / "Singles" / "drums.ogg")} input.typed', "Breakbeat")
    choose(file(music / "Singles" / "noise.m4a"), 5)  # reject
    page.eval("window.scrollTo(0, document.body.scrollHeight)")
    choose(file(music / "Band – Second Album" / "03 Noise.mp3"), None)


if __name__ == "__main__":
    main()
