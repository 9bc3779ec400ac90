"""The beets plugin ``audiogenre`` (beetsplug/audiogenre.py).

Two layers:

- In-process, with beets' own test helper (``beets.test.helper``): a real
  temporary beets library of generated MP3/FLAC files, the plugin loaded by
  name, commands run through beets' CLI. tagger's scan is replaced by a fake
  that returns chosen results for those real files, so the policy cases
  (unsure, below threshold, existing genres, count) are exact; beets' writes
  into the files are real and read back with mutagen.
- End to end: the ``beet`` program in a subprocess with its own config
  (BEETSDIR), ``beet import -A`` of generated files, tagger's real scan and
  the shipped network. The shipped model rightly calls synthetic audio unsure,
  so these runs use its copy with the unsure rule off (conftest's
  trusting_model) and ``min_confidence: 0``: what they check is the
  plumbing (nothing changes under --pretend, database and files agree after a
  run, a second run decodes nothing, the import hook), not the genres.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import mutagen
import pytest

pytest.importorskip("beets")

from beets.library import Item, Library  # noqa: E402
from beets.test.helper import PluginTestHelper  # noqa: E402
from beets.ui import UserError  # noqa: E402

from audiofiles import make_audio  # noqa: E402
from musiclibrary import ALBUMS, SECONDS, TRACKS_PER_ALBUM, make_track  # noqa: E402
from beetsplug import audiogenre  # noqa: E402
import tagger  # noqa: E402
from tagger import TrackResult  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def file_genres(path) -> list[str]:
    """The genres in the file itself, read with mutagen (ID3 TCON / Vorbis GENRE)."""
    tags = mutagen.File(path).tags
    if tags is None:
        return []
    if "TCON" in tags:
        return list(tags["TCON"].text)
    return list(tags.get("GENRE", []))


def ok(path, *genres, unsure=False) -> TrackResult:
    return TrackResult(os.fspath(path), "ok", list(genres), unsure=unsure)


class FakeScan:
    """Stands in for tagger's scan: the results given per file name; records
    which paths it was asked about."""

    def __init__(self, by_name: dict[str, TrackResult | tuple]):
        self.by_name = by_name
        self.asked: list[str] = []

    def __call__(self, paths, db, model, jobs):
        self.asked += paths
        out = {}
        for p in paths:
            given = self.by_name[Path(p).name]
            out[p] = (given if isinstance(given, TrackResult)
                      else ok(p, *given))
            out[p].path = p
        return out


class TestAudioGenre(PluginTestHelper):
    plugin: ClassVar[str] = "audiogenre"
    db_on_disk: ClassVar[bool] = True

    def add(self, name: str, genres: list[str] | None = None) -> Item:
        """A real generated file in the library, optionally carrying genres
        (in beets' database and in the file, as after an import)."""
        path = make_audio(self.lib_path / name, 1.0, "tone")
        item = Item.from_path(os.fsencode(path))
        self.lib.add(item)
        if genres:
            item.genres = genres
            item.store()
            item.write()
        return item

    def fresh(self, item: Item) -> Item:
        return self.lib.get_item(item.id)

    def use(self, monkeypatch, results: dict) -> FakeScan:
        fake = FakeScan(results)
        monkeypatch.setattr(audiogenre, "analyse", fake)
        return fake

    def test_sets_genres_in_database_and_file_with_display_names(self, monkeypatch, capsys):
        mp3, flac = self.add("a.mp3"), self.add("b.flac")
        self.use(monkeypatch, {"a.mp3": [("hiphop", 0.9), ("jazz", 0.1)],
                               "b.flac": [("jazz", 0.8), ("rock", 0.2)]})
        self.config["audiogenre"]["min_confidence"] = 0.5
        self.run_command("audiogenre")
        assert self.fresh(mp3).genres == ["Hip-Hop"]
        assert self.fresh(flac).genres == ["Jazz"]
        assert file_genres(mp3.path) == ["Hip-Hop"]
        assert file_genres(flac.path) == ["Jazz"]
        assert "audiogenre: set genres of 2 items" in capsys.readouterr().out

    def test_tagger_config_display_names_and_threshold_apply(self, monkeypatch, tmp_path):
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
        (tmp_path / "tagger").mkdir()
        (tmp_path / "tagger" / "config.toml").write_text(
            'min_confidence = 0.95\n[display_names]\nhiphop = "Hip Hop"\n')
        item = self.add("a.mp3")
        self.use(monkeypatch, {"a.mp3": [("hiphop", 0.9)]})
        self.run_command("audiogenre")
        assert self.fresh(item).genres == []  # 0.9 < tagger's 0.95
        self.config["audiogenre"]["min_confidence"] = 0.8  # the beets section wins
        self.run_command("audiogenre")
        assert self.fresh(item).genres == ["Hip Hop"]

    def test_pretend_changes_no_file_and_no_database_field(self, monkeypatch, capsys):
        items = [self.add("a.mp3"), self.add("b.flac", genres=["Rock"])]
        self.use(monkeypatch, {"a.mp3": [("hiphop", 0.9)], "b.flac": [("jazz", 0.9)]})
        before_files = [Path(os.fsdecode(i.path)).read_bytes() for i in items]
        before_db = [dict(self.fresh(i)) for i in items]
        self.run_command("audiogenre", "--pretend", "--force")
        out = capsys.readouterr().out
        assert "Hip-Hop" in out and "Jazz" in out
        assert "audiogenre: would set genres of 2 items" in out
        assert [Path(os.fsdecode(i.path)).read_bytes() for i in items] == before_files
        assert [dict(self.fresh(i)) for i in items] == before_db

    def test_existing_genres_kept_unless_force(self, monkeypatch):
        item = self.add("a.flac", genres=["Rock"])
        self.use(monkeypatch, {"a.flac": [("jazz", 0.9)]})
        self.run_command("audiogenre")
        assert self.fresh(item).genres == ["Rock"]
        assert file_genres(item.path) == ["Rock"]
        self.run_command("audiogenre", "-f")
        assert self.fresh(item).genres == ["Jazz"]
        assert file_genres(item.path) == ["Jazz"]

    def test_force_from_config(self, monkeypatch):
        item = self.add("a.mp3", genres=["Rock"])
        self.use(monkeypatch, {"a.mp3": [("jazz", 0.9)]})
        self.config["audiogenre"]["force"] = True
        self.run_command("audiogenre")
        assert self.fresh(item).genres == ["Jazz"]

    def test_unsure_below_threshold_and_errors_are_never_written(self, monkeypatch, capsys):
        unsure, low, failed = self.add("u.mp3"), self.add("l.flac"), self.add("e.mp3")
        self.use(monkeypatch, {
            "u.mp3": ok("u.mp3", ("jazz", 0.95), unsure=True),
            "l.flac": [("jazz", 0.3), ("rock", 0.25)],
            "e.mp3": TrackResult("e.mp3", "error", error="decoder crashed (SIGSEGV)"),
        })
        self.config["audiogenre"]["min_confidence"] = 0.5
        self.run_command("audiogenre", "-f")
        for item in (unsure, low, failed):
            assert self.fresh(item).genres == []
            assert file_genres(item.path) == []
        out = capsys.readouterr().out
        assert "set genres of 0 items" in out
        assert "1 unsure" in out and "1 below threshold" in out and "1 error" in out

    def test_count_writes_several_genres_each_above_min_confidence(self, monkeypatch):
        two, one = self.add("a.mp3"), self.add("b.flac")
        self.use(monkeypatch, {"a.mp3": [("hiphop", 0.5), ("jazz", 0.4), ("rock", 0.1)],
                               "b.flac": [("rock", 0.7), ("pop", 0.2)]})
        self.run_command("audiogenre", "--count", "2", "--min-confidence", "0.3")
        assert self.fresh(two).genres == ["Hip-Hop", "Jazz"]
        assert file_genres(two.path) == ["Hip-Hop", "Jazz"]
        assert self.fresh(one).genres == ["Rock"]

    def test_query_selects_the_items_analysed(self, monkeypatch):
        self.add("a.mp3")
        chosen = self.add("b.flac")
        chosen.title = "pick me"
        chosen.store()
        fake = self.use(monkeypatch, {"b.flac": [("jazz", 0.9)]})
        self.run_command("audiogenre", "title:pick")
        assert [Path(p).name for p in fake.asked] == ["b.flac"]
        assert self.fresh(chosen).genres == ["Jazz"]

    def test_import_write_off_changes_the_database_only(self, monkeypatch):
        item = self.add("a.mp3")
        before = Path(os.fsdecode(item.path)).read_bytes()
        self.use(monkeypatch, {"a.mp3": [("jazz", 0.9)]})
        self.config["import"]["write"] = False
        self.run_command("audiogenre")
        assert self.fresh(item).genres == ["Jazz"]
        assert Path(os.fsdecode(item.path)).read_bytes() == before

    def test_a_bad_setting_is_a_beets_user_error(self, monkeypatch):
        self.add("a.mp3")
        fake = self.use(monkeypatch, {"a.mp3": [("jazz", 0.9)]})
        self.config["audiogenre"]["min_confidence"] = 2
        with pytest.raises(UserError, match="min_confidence must be a number from 0 to 1"):
            self.run_command("audiogenre")
        assert fake.asked == []  # refused before decoding anything

    def test_learn_trains_on_beets_genres_and_writes_the_librarys_words(self, tmp_path, capsys):
        """--learn takes the genres beets holds (not the files': they carry
        none here), saves a model the plugin then scans with, and the
        untagged items get the library's own spelling; tagged ones keep theirs."""
        items = {}
        for a, (artist, album, kind, genre, ext) in enumerate(ALBUMS):
            for i in range(TRACKS_PER_ALBUM):
                path = make_track(self.lib_path / artist / album / f"{i + 1:02d} {kind}{ext}",
                                  kind, SECONDS, 100 * a + i,
                                  {"artist": artist, "album": album, "title": f"{kind} {i}"})
                item = Item.from_path(os.fsencode(path))
                self.lib.add(item)
                if genre:
                    item.genres = [genre]
                    item.store()
                items[item.id] = (kind, genre)
        self.config["audiogenre"]["db"] = str(tmp_path / "tagger.db")
        self.config["audiogenre"]["learnt_model"] = str(tmp_path / "learnt")
        self.config["audiogenre"]["jobs"] = 2
        self.run_command("audiogenre", "--learn")
        out = capsys.readouterr().out
        assert "audiogenre: 18 tagged files in 2 genres: Classical 9, Hip-Hop 9" in out
        assert (f"audiogenre: learnt 2 genres from 18 items into {tmp_path / 'learnt'}; "
                "audiogenre now uses it") in out
        meta = json.loads((tmp_path / "learnt" / "metadata.json").read_text())
        assert meta["labels"] == ["Classical", "Hip-Hop"]

        self.run_command("audiogenre")
        written = 0
        for item_id, (kind, genre) in items.items():
            now = self.fresh_id(item_id).genres
            if genre:
                assert now == [genre]
            elif now:
                assert now == ["Classical" if kind == "keys" else "Hip-Hop"]
                written += 1
        assert written >= 1
        # Every item was scanned with the learnt model (its labels), not the shipped one.
        assert {r.genres[0][0] for r in tagger.cached(db=tmp_path / "tagger.db")} == {
            "Classical", "Hip-Hop"}

    def fresh_id(self, item_id: int) -> Item:
        return self.lib.get_item(item_id)


# -- end to end: the beet program, tagger's real scan --------------------------


def beet(beetsdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BEETSDIR": str(beetsdir), "HOME": str(beetsdir),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "beets", *args], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def beets_setup(tmp_path, trusting_model):
    """A beets config in tmp (library, music directory, tagger cache) and a
    folder of two generated tracks, MP3 and FLAC, one already tagged Rock."""
    src = tmp_path / "incoming" / "Album"
    src.mkdir(parents=True)
    make_audio(src / "01 drums.mp3", 4.0, "drums",
               metadata={"artist": "A", "album": "Album", "title": "drums"})
    make_audio(src / "02 tone.flac", 4.0, "tone",
               metadata={"artist": "A", "album": "Album", "title": "tone", "genre": "Rock"})
    beetsdir = tmp_path / "beetsdir"
    beetsdir.mkdir()

    def configure(auto: bool):
        (beetsdir / "config.yaml").write_text(
            f"directory: {tmp_path / 'lib'}\n"
            f"library: {beetsdir / 'library.db'}\n"
            "plugins: audiogenre\n"
            "ui:\n  color: no\n"
            "import:\n  copy: yes\n  write: yes\n"
            "audiogenre:\n"
            f"  auto: {'yes' if auto else 'no'}\n"
            f"  db: {tmp_path / 'tagger.db'}\n"
            "  min_confidence: 0\n"  # synthetic audio: see the module docstring
            f"  model: {trusting_model}\n"
            "  jobs: 1\n")
    return src, beetsdir, configure


def library_state(beetsdir: Path) -> list[tuple[str, list[str], bytes]]:
    """(path, genres in beets' database, the file's bytes) per item."""
    lib = Library(str(beetsdir / "library.db"), str(beetsdir.parent / "lib"))
    try:
        return sorted((os.fsdecode(i.path), list(i.genres),
                       Path(os.fsdecode(i.path)).read_bytes()) for i in lib.items())
    finally:
        lib._close()


def analysed_at(tagger_db: Path) -> dict[str, float]:
    with sqlite3.connect(tagger_db) as conn:
        return dict(conn.execute("select path, analysed_at from results"))


def proposals(tagger_db: Path) -> dict[str, list[str] | None]:
    """path -> what tagger proposes at min_confidence 0 (the top genre's
    display name), from its cache; None for an unsure result."""
    display = tagger.WritePolicy(min_confidence=0).display
    return {r.path: None if r.unsure else [display(r.genres[0][0])]
            for r in tagger.cached(db=tagger_db)}


def test_beet_audiogenre_end_to_end(beets_setup, tmp_path):
    src, beetsdir, configure = beets_setup
    configure(auto=False)
    beet(beetsdir, "import", "-A", "-q", str(src))
    before = library_state(beetsdir)
    (mp3, _, _), (flac, _, _) = before
    assert [genres for _, genres, _ in before] == [[], ["Rock"]]

    pretend = beet(beetsdir, "audiogenre", "--pretend")
    proposed = proposals(tmp_path / "tagger.db")
    assert sorted(proposed) == [mp3, flac]
    assert proposed[mp3] is not None, "the model is unsure of the test audio"
    assert "audiogenre: would set genres of 1 items, 1 keep existing" in pretend.stdout
    assert library_state(beetsdir) == before
    analysed = analysed_at(tmp_path / "tagger.db")

    run = beet(beetsdir, "audiogenre")
    assert "audiogenre: set genres of 1 items, 1 keep existing" in run.stdout
    after = dict((path, genres) for path, genres, _ in library_state(beetsdir))
    assert after == {mp3: proposed[mp3], flac: ["Rock"]}  # Rock kept: no --force
    assert {path: file_genres(path) for path in after} == after

    beet(beetsdir, "audiogenre", "-f")
    forced = dict((path, genres) for path, genres, _ in library_state(beetsdir))
    assert forced == {mp3: proposed[mp3], flac: proposed[flac] or ["Rock"]}
    assert {path: file_genres(path) for path in forced} == forced
    # The pretend run analysed; the later runs decoded nothing again (beets'
    # writes changed the files' tags, and the plugin told tagger's cache).
    assert analysed_at(tmp_path / "tagger.db") == analysed


def test_import_hook_analyses_new_items(beets_setup, tmp_path):
    src, beetsdir, configure = beets_setup
    configure(auto=True)
    originals = {p: p.read_bytes() for p in src.iterdir()}
    out = beet(beetsdir, "import", "-A", "-q", str(src))
    assert "audiogenre: set genres of 1 items, 1 keep existing" in out.stdout
    state = {path: genres for path, genres, _ in library_state(beetsdir)}
    proposed = proposals(tmp_path / "tagger.db")
    assert sorted(proposed) == sorted(state)  # analysed where beets put them
    for path, genres in state.items():
        assert genres == (["Rock"] if path.endswith(".flac") else proposed[path])
        assert file_genres(path) == genres
    # beets copied the files into its directory; the originals are untouched.
    assert {p: p.read_bytes() for p in src.iterdir()} == originals
