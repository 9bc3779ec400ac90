"""Build the benchmark corpus: real full-length music from Debian packages.

Three packages of free game music hold about 325 minutes of full-length
tracks in three formats: ``singularity-music`` (Ogg Vorbis, 48 kHz stereo),
``warzone2100-music`` (Opus) and ``asc-music`` (MP3, 22.05 kHz stereo). They are
fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x``; some of the
tracks are then transcoded to MP3, FLAC and M4A (AAC) with the ffmpeg binary of
the imageio-ffmpeg wheel, run with argument lists (never a shell).

Each piece of music appears once in the corpus, in one format, so that
agreement figures count distinct music. The plan puts 8 tracks in each of 5
formats (40 tracks, about 250 minutes); ``quick`` keeps the shortest track of
each format.

Layout under the corpus folder (benchmarks/corpus/ is git-ignored)::

    debs/            the downloaded .deb files
    src/<package>/   what dpkg-deb unpacked
    tracks/<format>/ the corpus: native files hard-linked, transcodes written
    manifest.json    one entry per corpus file: source, format, seconds
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

# package -> (folder of its music inside the package, native extension)
PACKAGES = {
    "singularity-music": ("usr/share/games/singularity/music", "ogg"),
    "warzone2100-music": ("usr/share/games/warzone2100/music", "opus"),
    "asc-music": ("usr/share/games/asc/music", "mp3"),
}
FORMATS = ("ogg", "opus", "mp3", "flac", "m4a")
PER_FORMAT = 8  # tracks per format in the full corpus
MIN_TRACK_SECONDS = 120.0  # shorter pieces (win/lose jingles) are not full-length tracks

# ffmpeg output options per transcoded format: CD-like 44.1 kHz, common settings.
ENCODE = {
    "mp3": ["-c:a", "libmp3lame", "-q:a", "2", "-ar", "44100", "-f", "mp3"],
    "flac": ["-c:a", "flac", "-ar", "44100", "-sample_fmt", "s16", "-f", "flac"],
    "m4a": ["-c:a", "aac", "-b:a", "192k", "-ar", "44100", "-movflags", "+faststart",
            "-f", "ipod"],
}


class CorpusError(Exception):
    pass


@dataclass
class Entry:
    """One corpus file."""

    path: str  # relative to the corpus folder
    format: str
    source: str  # relative to the corpus folder
    package: str
    seconds: float
    transcoded: bool


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def duration(path: str | os.PathLike) -> float:
    """Length in s from the headers (mutagen); 0.0 when unknown."""
    import mutagen

    f = mutagen.File(os.fspath(path))
    return float(f.info.length) if f is not None and f.info.length else 0.0


def fetch(corpus: Path, say=print) -> dict[str, Path]:
    """Download and unpack the three packages (once); package -> unpacked folder."""
    debs, src = corpus / "debs", corpus / "src"
    debs.mkdir(parents=True, exist_ok=True)
    out = {}
    for pkg in PACKAGES:
        found = sorted(glob.glob(str(debs / f"{pkg}_*.deb")))
        if not found:
            say(f"  apt-get download {pkg}")
            _download(pkg, debs)
            found = sorted(glob.glob(str(debs / f"{pkg}_*.deb")))
            if not found:
                raise CorpusError(f"apt-get download {pkg} left no .deb in {debs}")
        target = src / pkg
        if not (target / PACKAGES[pkg][0]).is_dir():
            say(f"  dpkg-deb -x {Path(found[-1]).name}")
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            _run(["dpkg-deb", "-x", found[-1], str(target)])
        out[pkg] = target / PACKAGES[pkg][0]
    return out


def _download(pkg: str, debs: Path) -> None:
    if shutil.which("apt-get") is None:
        raise CorpusError(f"no apt-get here: put {pkg}_*.deb into {debs} by hand")
    try:
        _run(["apt-get", "download", pkg], cwd=debs)
    except CorpusError:
        # An empty or stale package list: refresh it once and try again.
        _run(["apt-get", "update", "-qq"])
        _run(["apt-get", "download", pkg], cwd=debs)


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CorpusError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                          f"{proc.stderr.strip()[-500:]}")


def plan(sources: dict[str, Path], corpus: Path, quick: bool = False) -> list[Entry]:
    """Which source goes to which format: 8 tracks per format, each piece once.

    ogg: 8 Singularity tracks as shipped; mp3: the 3 ASC tracks as shipped +
    5 other Singularity tracks transcoded; opus / flac / m4a: the 24 shortest
    full-length Warzone 2100 tracks dealt round-robin (opus as shipped)."""
    def tracks(pkg):
        folder = sources[pkg]
        ext = PACKAGES[pkg][1]
        found = []
        for p in sorted(folder.rglob(f"*.{ext}")):
            secs = duration(p)
            if secs >= MIN_TRACK_SECONDS:
                found.append((p, secs))
        return found

    sing, wz, asc = tracks("singularity-music"), tracks("warzone2100-music"), tracks("asc-music")
    groups: dict[str, list[tuple[str, Path, float]]] = {f: [] for f in FORMATS}
    to_mp3 = set(range(1, len(sing), 2)[: PER_FORMAT - len(asc)])  # every other one
    for i, (p, s) in enumerate(sing):
        groups["mp3" if i in to_mp3 else "ogg"].append(("singularity-music", p, s))
    for p, s in asc:
        groups["mp3"].append(("asc-music", p, s))
    wz = sorted(sorted(wz, key=lambda t: t[1])[: 3 * PER_FORMAT], key=lambda t: str(t[0]))
    for i, (p, s) in enumerate(wz):
        groups[("opus", "flac", "m4a")[i % 3]].append(("warzone2100-music", p, s))

    entries = []
    for fmt in FORMATS:
        chosen = groups[fmt][:PER_FORMAT]
        if quick:
            chosen = sorted(chosen, key=lambda t: t[2])[:1]
        for pkg, p, secs in chosen:
            rel = p.relative_to(sources[pkg])
            parts = [x for x in rel.with_suffix("").parts if x != "albums"]
            name = " - ".join([pkg.split("-")[0]] + parts) + "." + fmt
            entries.append(Entry(
                path=str(Path("tracks") / fmt / name), format=fmt,
                source=str(p.relative_to(corpus)), package=pkg, seconds=round(secs, 2),
                transcoded=PACKAGES[pkg][1] != fmt))
    return entries


def build(corpus: Path, quick: bool = False, jobs: int = 2, say=print) -> list[Entry]:
    """Fetch, plan and write the corpus (files already there are kept);
    returns the entries of this selection and updates manifest.json."""
    corpus = corpus.resolve()
    sources = fetch(corpus, say)
    entries = plan(sources, corpus, quick)
    todo = [e for e in entries if not (corpus / e.path).is_file()
            or (corpus / e.path).stat().st_size == 0]
    for fmt in FORMATS:
        (corpus / "tracks" / fmt).mkdir(parents=True, exist_ok=True)
    native = [e for e in todo if not e.transcoded]
    for e in native:
        _link(corpus / e.source, corpus / e.path)
    encode = [e for e in todo if e.transcoded]
    if encode:
        say(f"  transcoding {len(encode)} tracks to mp3 / flac / m4a "
            f"({sum(e.seconds for e in encode) / 60:.0f} min of audio) ...")
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            for _ in pool.map(lambda e: _transcode(corpus / e.source, corpus / e.path, e.format),
                              encode):
                pass
    for e in entries:  # the encoded length, which may differ by a frame
        if e.transcoded:
            e.seconds = round(duration(corpus / e.path), 2)
    _write_manifest(corpus, entries)
    return entries


def _link(src: Path, dst: Path) -> None:
    tmp = dst.with_name(".partial-" + dst.name)
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:  # another filesystem: copy
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _transcode(src: Path, dst: Path, fmt: str) -> None:
    # A hidden temporary name: tagger skips it, and a killed build leaves no half file.
    tmp = dst.with_name(".partial-" + dst.name)
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y",
           "-i", "file:" + str(src), "-map", "0:a:0", "-vn", "-map_metadata", "0",
           *ENCODE[fmt], "file:" + str(tmp)]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if proc.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise CorpusError(f"ffmpeg could not write {dst.name}: {proc.stderr.strip()[-300:]}")
    os.replace(tmp, dst)


def _write_manifest(corpus: Path, entries: list[Entry]) -> None:
    path = corpus / "manifest.json"
    try:
        known = {e["path"]: e for e in json.loads(path.read_text())}
    except (OSError, ValueError):
        known = {}
    known.update({e.path: asdict(e) for e in entries})
    path.write_text(json.dumps(sorted(known.values(), key=lambda e: e["path"]), indent=1) + "\n")


if __name__ == "__main__":  # build the corpus alone: python benchmarks/build_corpus.py [DIR] [--quick]
    args = [a for a in sys.argv[1:] if a != "--quick"]
    root = Path(args[0]) if args else Path(__file__).resolve().parent / "corpus"
    for e in build(root, quick="--quick" in sys.argv):
        print(f"{e.format:5} {e.seconds / 60:6.2f} min  {e.path}")
