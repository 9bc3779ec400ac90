"""A partly tagged library made from the dev folders, and what a model
learnt from its own tags writes into the untagged half: prints figures,
asserts nothing.

    python benchmarks/library.py [--out DIR] [--data DIR] [--jobs 2] [--seed 0]

1. Builds OUT/library (kept between runs; --rebuild makes it again) as people
   keep one: Artist/Album/NN Title.ext.
   - emotify-dev: artist and album from its manifest, the genre tag is the
     clip's ``publisher_genre`` (Magnatune's own words: "Alternative Rock",
     "Electronic", "Classical", "World", "Alt. Rock", ...); Ogg, copied.
   - gtzan-dev: no artists or albums are known; every ALBUM_CLIPS consecutive
     clips of a genre are an album by an artist of its own; the genre tag is
     the GTZAN genre as people spell it; MP3 (encoded, V2).
   Half of the artists of every genre (chosen with --seed) are tagged, each
   artist's files in one of several real-world spellings of its genre
   ("Hip-Hop", "hip hop", "HipHop", "(17)" for Rock in an MP3, "Electronic;
   Ambient", ...); the other half carry no genre.
2. ``tagger scan LIBRARY`` with the shipped model (fresh cache in OUT).
3. ``tagger train LIBRARY --from-tags --out OUT/model`` from that cache.
4. ``tagger scan LIBRARY --model OUT/model``.
5. The shipped recipe without the untagged half: ``tagger train`` on the
   tagged half's clips in their data-set folders (OUT/recipe), then a scan
   with it. The shipped model itself was trained on all 552 dev clips, the
   untagged half included, so its own figures here are optimistic.
Then, for the untagged half, what a default ``--write`` (keep, the model's
threshold and unsure rule; and with ``--album-consensus``) would write:
coverage, share right, and share spelled as the library spells its genres,
for the from-tags model and the shipped one. "Right" in the library's words:
the written genre is the file's hidden genre (genre_key equal). For the
shipped model also "right in its own words": its label is the clip's data-set
genre (GTZAN's, or Emotify's four).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

DATA = Path(os.environ.get("TAGGER_DATA", REPO.parent / "shared" / "data"))
ALBUM_CLIPS = 3  # gtzan-dev clips per made-up album (and artist)
# Real-world spellings of each genre; the first is the one most tagged files
# use (it is listed several times), the rest are variants.
SPELLINGS = {
    "alternativerock": ["Alternative Rock"] * 3 + ["alternative rock", "Alternative-Rock",
                                                    "Alternative Rock; Indie"],
    "electronic": ["Electronic"] * 3 + ["electronic", "Electronic; Ambient", "ELECTRONIC"],
    "classical": ["Classical"] * 3 + ["classical", "Classical/Piano"],
    "hiphop": ["Hip-Hop"] * 2 + ["Hip Hop", "HipHop", "hip-hop"],
    "rock": ["Rock"] * 2 + ["rock", "(17)"],
    "blues": ["Blues"] * 3 + ["blues", "(0)"],
    "jazz": ["Jazz"] * 3 + ["jazz", "Jazz; Swing"],
    "country": ["Country"] * 2 + ["country", "(2)"],
}


def spelling_of(label: str, rng: random.Random, mp3: bool) -> str:
    """One real-world spelling of ``label`` (an ID3v1 number only in an MP3)."""
    from tagger.training.fromtags import genre_key

    choices = [s for s in SPELLINGS.get(genre_key(label), [label] * 3 + [label.lower()])
               if mp3 or not s.startswith("(")]
    return rng.choice(choices)


def tracks_of(data: Path) -> list[dict]:
    """Every dev clip as {src, artist, album, genre (hidden, the owner's), truth (data set), ext}."""
    out = []
    with open(data / "emotify-dev" / "manifest.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.append({"src": data / "emotify-dev" / r["file"], "artist": r["artist"],
                        "album": r["album"], "genre": r["publisher_genre"],
                        "truth": r["genre"], "ext": ".ogg"})
    names = {"hiphop": "Hip-Hop"}
    for folder in sorted((data / "gtzan-dev").iterdir()):
        if not folder.is_dir():
            continue
        clips = sorted(folder.glob("*.ogg"))
        for i, clip in enumerate(clips):
            a = i // ALBUM_CLIPS
            genre = names.get(folder.name, folder.name.title())
            out.append({"src": clip, "artist": f"{genre} Artist {a + 1}",
                        "album": f"{genre} Album {a + 1}", "genre": genre,
                        "truth": folder.name, "ext": ".mp3"})
    return out


def _safe(name: str) -> str:
    return "".join("_" if c in '/\\:*?"<>|' else c for c in name).strip(" .") or "_"


def build(out: Path, seed: int, data: Path) -> dict:
    """The library under out/library; returns path -> {genre, truth, tagged, written tag}."""
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    rng = random.Random(seed)
    tracks = tracks_of(data)
    by_genre = defaultdict(set)
    for t in tracks:
        by_genre[t["genre"]].add(t["artist"])
    tagged_artists = set()
    for genre, artists in sorted(by_genre.items()):
        artists = sorted(artists)
        rng.shuffle(artists)
        tagged_artists |= set(artists[: (len(artists) + 1) // 2])
    library = out / "library"
    truth = {}
    numbers = Counter()
    spelled = {}  # artist -> the spelling all its files carry
    for t in tracks:
        folder = library / _safe(t["artist"]) / _safe(t["album"])
        numbers[folder] += 1
        path = folder / f"{numbers[folder]:02d} {t['src'].stem}{t['ext']}"
        folder.mkdir(parents=True, exist_ok=True)
        tagged = t["artist"] in tagged_artists
        if tagged and t["artist"] not in spelled:
            spelled[t["artist"]] = spelling_of(t["genre"], rng, t["ext"] == ".mp3")
        tag = spelled.get(t["artist"])
        meta = {"artist": t["artist"], "album": t["album"], "title": t["src"].stem,
                **({"genre": tag} if tag else {})}
        args = [ffmpeg, "-v", "error", "-y", "-i", str(t["src"]), "-map_metadata", "-1"]
        args += ["-c:a", "copy"] if t["ext"] == ".ogg" else ["-c:a", "libmp3lame", "-q:a", "2"]
        for k, v in meta.items():
            args += ["-metadata", f"{k}={v}"]
        subprocess.run(args + [str(path)], check=True, capture_output=True)
        truth[str(path.resolve())] = {"genre": t["genre"], "truth": t["truth"],
                                      "tagged": tagged, "tag": tag, "src": str(t["src"]),
                                      "artist": t["artist"]}
    (out / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth


def recipe_folders(out: Path, truth: dict) -> list[Path]:
    """The tagged half's clips as the shipped recipe's labelled folders
    (<source>/<data-set genre>/<clip>, hard links; emotify's manifest names
    the artists): to train the shipped recipe without the untagged half."""
    roots = []
    for source in ("gtzan-dev", "emotify-dev"):
        root = out / "recipe" / source
        shutil.rmtree(root, ignore_errors=True)
        rows = [["file", "artist"]]
        for v in truth.values():
            src = Path(v["src"])
            if not v["tagged"] or src.parent.parent.name != source:
                continue
            dest = root / v["truth"] / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dest)
            except OSError:
                shutil.copy(src, dest)
            rows.append([f"{v['truth']}/{src.name}", v["artist"]])
        with open(root / "manifest.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
        roots.append(root)
    return roots


def run(cmd: list[str], log: Path) -> float:
    """Run a tagger command (this checkout's), its output to ``log``; seconds."""
    print("$ " + " ".join(cmd), flush=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    with open(log, "w") as f:
        done = subprocess.run([sys.executable, "-m", "tagger", *cmd], stdout=f, stderr=f, env=env)
    took = time.monotonic() - start
    if done.returncode not in (0,):
        print(f"  exit {done.returncode}; see {log}")
    return took


def writes(db: Path, model: Path | None, library: Path, truth: dict, consensus: bool) -> dict:
    """What a default write would do with the untagged half (api.plan on the
    cached results): overall and per source (emotify-dev, gtzan-dev)."""
    import tagger
    from tagger.training.fromtags import genre_key, split_values
    from tagger import Action

    WRITE = Action.WRITE

    results = tagger.cached([library], db=db)
    policy = tagger.write_policy(model=model, album_consensus=consensus or None)
    plan = tagger.plan(results, policy)
    spellings = defaultdict(Counter)  # the library's spellings of each genre
    for v in truth.values():
        if v["tag"]:
            for value in split_values([v["tag"]]):
                spellings[genre_key(value)][value] += 1
    library_spelling = {k: c.most_common(1)[0][0] for k, c in spellings.items()}
    out = {"changed_tagged": sum(1 for e in plan if truth[e.result.path]["tagged"]
                                 and e.decision.action == WRITE)}
    for part in ("all", "emotify-dev", "gtzan-dev"):
        untagged = [e for e in plan if not truth[e.result.path]["tagged"]
                    and part in ("all", Path(truth[e.result.path]["src"]).parent.parent.name)]
        written = [(e.decision.genres_to_write[0], truth[e.result.path]) for e in untagged
                   if e.decision.action == WRITE]
        n = len(written)
        share = lambda hits: sum(hits) / n if n else None  # noqa: E731
        out[part] = {
            "untagged": len(untagged), "written": n, "coverage": n / max(1, len(untagged)),
            "right": share(genre_key(g) == genre_key(t["genre"]) for g, t in written),
            "data_set_genre": share(genre_key(g) == genre_key(t["truth"]) for g, t in written),
            "library_spelling": share(library_spelling.get(genre_key(g)) == g
                                      for g, _ in written)}
        if part == "all":
            out["by_genre"] = _by_genre([e for e in untagged if e.decision.action == WRITE],
                                        untagged, truth)
    return out


def _by_genre(written, untagged, truth) -> dict:
    from tagger.training.fromtags import genre_key

    out = {}
    for e in untagged:
        g = truth[e.result.path]["genre"]
        row = out.setdefault(g, {"files": 0, "written": 0, "right": 0})
        row["files"] += 1
    for e in written:
        g = truth[e.result.path]["genre"]
        out[g]["written"] += 1
        out[g]["right"] += genre_key(e.decision.genres_to_write[0]) == genre_key(g)
    return out


def _pct(x) -> str:
    return "-" if x is None else f"{x:.1%}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/tagger-library-bench"))
    ap.add_argument("--jobs", "-j", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DATA,
                    help="the folder holding gtzan-dev and emotify-dev (default: ../shared/data "
                         "or $TAGGER_DATA)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--min-tracks", type=int, default=None)
    args = ap.parse_args()
    out = args.out.resolve()
    library, db, model = out / "library", out / "cache.db", out / "model"
    if args.rebuild or not (out / "truth.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        print(f"building {library}", flush=True)
        build(out, args.seed, args.data)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    db.unlink(missing_ok=True)
    for p in out.glob("cache.db*"):
        p.unlink()
    tagged = sum(v["tagged"] for v in truth.values())
    print(f"{len(truth)} files, {tagged} tagged, {len(truth) - tagged} untagged")
    jobs = ["-j", str(args.jobs)]
    t_scan = run(["scan", str(library), "--db", str(db), *jobs, "--quiet"], out / "scan-shipped.log")
    shipped = {c: writes(db, None, library, truth, c) for c in (False, True)}
    t_train = run(["train", str(library), "--from-tags", "--db", str(db), "--out", str(model),
                   *jobs, *(["--min-tracks", str(args.min_tracks)] if args.min_tracks else [])],
                  out / "train.log")
    t_scan2 = run(["scan", str(library), "--db", str(db), "--model", str(model), *jobs, "--quiet"],
                  out / "scan-learnt.log")
    learnt = {c: writes(db, model, library, truth, c) for c in (False, True)}
    recipe = out / "recipe-model"
    run(["train", *map(str, recipe_folders(out, truth)), "--out", str(recipe), *jobs],
        out / "train-recipe.log")
    run(["scan", str(library), "--db", str(db), "--model", str(recipe), *jobs, "--quiet"],
        out / "scan-recipe.log")
    held_out = {c: writes(db, recipe, library, truth, c) for c in (False, True)}
    meta = json.loads((model / "metadata.json").read_text(encoding="utf-8"))
    print(f"\nscan (shipped model) {t_scan:.0f} s; train --from-tags {t_train:.1f} s; "
          f"scan (learnt model) {t_scan2:.0f} s")
    print("learnt genres: " + ", ".join(f"{k} {v}" for k, v in meta["data"]["per_label"].items()))
    print("left out: " + "; ".join(f"{lo['genre']} ({lo['reason']})"
                                    for lo in meta["from_tags"]["left_out"]))
    print(f"threshold {meta['scores']['min_confidence']}, unsure rule {meta['unsure'].get('max_distance')}")
    print("\nDefault writes into the untagged half: files written of those untagged (coverage), "
          "right (the library's genre), spelled as the library spells it; right by the data "
          "set's genre (GTZAN's, Emotify's four)")
    for name, res in (("from-tags model", learnt), ("shipped recipe", held_out),
                      ("shipped model", shipped)):
        for c in (False, True):
            for part in ("all", "emotify-dev", "gtzan-dev"):
                r = res[c][part]
                print(f"  {name:15s} {'--album-consensus' if c else 'default':17s} {part:11s} "
                      f"{r['written']:3d}/{r['untagged']:3d} = {r['coverage']:6.1%}, "
                      f"{_pct(r['right']):>6s} right, {_pct(r['library_spelling']):>6s} spelled "
                      f"as the library; {_pct(r['data_set_genre']):>6s} by the data set")
        print(f"  {name}: tagged files a write would change: {res[False]['changed_tagged']}")
    print("\nfrom-tags model, default, per hidden genre (files / written / right):")
    for g, row in sorted(learnt[False]["by_genre"].items(), key=lambda kv: kv[0].casefold()):
        print(f"  {g:18s} {row['files']:4d} {row['written']:4d} {row['right']:4d}")
    print("(shipped recipe: the shipped model's recipe and labels trained on the tagged half's "
          "clips only; the shipped model itself was trained on all 552 clips, these included)")
    (out / "results.json").write_text(json.dumps({"shipped": shipped, "learnt": learnt,
                                                  "recipe": held_out,
                                                  "seconds": [t_scan, t_train, t_scan2]},
                                                 indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
