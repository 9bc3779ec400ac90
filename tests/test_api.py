"""tagger's public API: the README's example on real files, lazy imports,
the cache lock during a scan, the policy's sources, album consensus by tag."""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import mutagen
import pytest

import tagger
from audiofiles import decode
from tagger import tags
from tagger.constants import DEFAULT_MODEL_DIR

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def tag_dump(path) -> dict:
    """Every tag of the file, as text (an empty tag block counts as none)."""
    audio = mutagen.File(path)
    return {} if audio.tags is None else {k: str(v) for k, v in audio.tags.items()}


def test_the_readme_example_runs_as_written_and_leaves_the_files_as_they_began(
        music, tmp_path, monkeypatch, trusting_model):
    flac = music / "Rock" / "Band – Album" / "02 drums.flac"
    tags.write_genres(flac, ["Old Genre"])
    files = [p for p in music.rglob("*") if tags.supports(p) and ".hidden" not in str(p)]
    audio = {p: decode(p) for p in files}
    before = {p: tag_dump(p) for p in files}

    code = readme_example()
    assert '["/data/Music"]' in code
    monkeypatch.chdir(tmp_path)  # db="cache.db" lands here
    # Generated audio is unsure to the shipped model: nothing would be written.
    monkeypatch.setattr("tagger.api.DEFAULT_MODEL_DIR", trusting_model)
    names = {}
    exec(code.replace('"/data/Music"', repr(str(music))), names)

    results, plan, run = names["results"], names["plan"], names["run"]
    assert all(isinstance(r, tagger.TrackResult) for r in results) and len(results) == 6
    assert isinstance(plan, tagger.Plan) and all(
        isinstance(e.decision, tagger.Decision) for e in plan)
    assert isinstance(run, tagger.WriteRun) and run.id == 1
    written = {o.path for o in run.outcomes if o.action == "written"}
    assert written == {e.result.path for e in plan.to_write()} and written
    assert (tmp_path / "cache.db").is_file()
    assert tagger.history(db=tmp_path / "cache.db")[0]["undone_at"] is not None
    for p in files:
        assert decode(p) == audio[p], p
        assert tag_dump(p) == before[p], p


# A script's way in: how Python was given the user's code.
RUN_AS = {
    "a script file": lambda script: (["example.py"], None),
    "stdin": lambda script: (["-"], script),
    "-c (as a notebook cell runs)": lambda script: (["-c", script], None),
    "-m": lambda script: (["-m", "example"], None),
}


@pytest.mark.parametrize("how", RUN_AS)
def test_the_readme_example_works_from_a_plain_script(how, music, tmp_path, trusting_model):
    """No ``if __name__ == "__main__":`` guard: the decode workers must not
    run the script again (each did, and waited for the cache lock until the
    300 s decoder timeout; from stdin the workers died: BrokenPipeError)."""
    script = "\n".join([
        # Generated audio is unsure to the shipped model: nothing would be written.
        f"import tagger.api; tagger.api.DEFAULT_MODEL_DIR = {str(trusting_model)!r}",
        readme_example().replace('"/data/Music"', repr(str(music))),
        "import json",
        "print(json.dumps({'statuses': [r.status for r in results],",
        "                  'written': [o.action for o in run.outcomes].count('written')}))",
    ])
    (tmp_path / "example.py").write_text(script, encoding="utf-8")
    args, stdin = RUN_AS[how](script)
    # Far below the decoder's 300 s timeout, which the bug waited for.
    done = subprocess.run([sys.executable, *args], cwd=tmp_path, input=stdin, text=True,
                          capture_output=True, timeout=150)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["statuses"] == ["ok"] * 6 and out["written"] > 0
    assert tagger.history(db=tmp_path / "cache.db")[0]["undone_at"] is not None


def test_undo_returns_what_it_did(music, tmp_path, trusting_model):
    results = list(tagger.scan([music / "Misc"], db=tmp_path / "c.db", jobs=1,
                               model=trusting_model))
    run = tagger.write(tagger.plan(results, tagger.WritePolicy(0.0)), db=tmp_path / "c.db")
    undone = tagger.undo(run.id, db=tmp_path / "c.db")
    assert isinstance(undone, tagger.UndoResult)
    assert (undone.run_id, undone.counts()["restored"]) == (run.id, 1)
    with pytest.raises(tagger.TaggerError, match="was already undone"):
        tagger.undo(run.id, db=tmp_path / "c.db")


def test_import_tagger_loads_no_tensorflow_and_exports_the_api():
    code = ("import sys, tagger\n"
            "assert [m for m in sys.modules if m.startswith('tagger')] == ['tagger']\n"
            "for name in tagger.__all__: getattr(tagger, name)\n"
            "import tagger.writing.writer\n"
            "assert callable(tagger.write) and tagger.write.__module__ == 'tagger.api'\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert issubclass(tagger.TagError, tagger.TaggerError)
    assert {"scan", "plan", "write", "undo", "retagged", "TrackResult", "WritePolicy", "Decision", "Plan",
            "WriteRun", "UndoResult", "TaggerError"} <= set(tagger.__all__)


def test_no_module_of_the_package_hides_a_public_name():
    """A submodule named like an API function replaces it on the package once
    imported (tagger.write was shadowed by write.py, tagger.undo by undo.py)."""
    import importlib
    import pkgutil
    import types

    for module in pkgutil.iter_modules(tagger.__path__):
        assert module.name not in tagger.__all__, f"tagger/{module.name} shadows tagger.{module.name}"
    for module in pkgutil.walk_packages(tagger.__path__, "tagger."):
        if module.name not in ("tagger.cluster.driver", "tagger.__main__"):  # the ray extra; the CLI
            importlib.import_module(module.name)
    for name in tagger.__all__:
        assert not isinstance(getattr(tagger, name), types.ModuleType), name


def test_the_cache_is_locked_while_a_scan_is_iterated(music, tmp_path):
    db = tmp_path / "c.db"

    def locked() -> bool:
        with open(str(db) + ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    run = tagger.scan([music / "Jazz"], db=db, jobs=1)
    first = next(run)
    assert isinstance(first, tagger.TrackResult) and locked()
    rest = list(run)
    assert len(rest) == 2 and not locked()
    with tagger.scan([music / "Jazz"], db=db) as again:  # stopped early: released
        next(again)
        assert locked()
    assert not locked()


def test_retagged_gives_files_another_program_retagged_their_new_identity(music, tmp_path):
    """Files whose tags another program rewrote (a beets plugin, say): after
    ``retagged`` a scan takes them from the cache with their new genres."""
    db = tmp_path / "c.db"
    folder = music / "Jazz"
    first = {r.path: r for r in tagger.scan([folder], db=db, jobs=1)}
    mp3, ogg = folder / "noise track.mp3", folder / "Sub Folder" / "drums.ogg"
    for path in (mp3, ogg):  # another program's write: mutagen, not tagger
        audio = mutagen.File(path, easy=True)
        audio["genre"] = ["Free Jazz"]
        audio.save()
    gone = folder / "Sub Folder" / "tone.opus"
    gone.unlink()  # cannot be read now: left alone
    assert tagger.retagged({mp3: ["Free Jazz"], str(ogg): ("Free Jazz",), gone: ["Jazz"]},
                           db=db) is None
    again = {r.path: r for r in tagger.scan([folder], db=db, jobs=1)}
    assert set(again) == {str(mp3), str(ogg)}
    for path in (mp3, ogg):
        r = again[str(path)]
        assert r.from_cache and r.current_genres == ["Free Jazz"], path
        assert r.genres == first[str(path)].genres


def test_a_scan_error_is_a_tagger_error(music, tmp_path):
    with pytest.raises(tagger.ModelError, match="not a model folder"):
        list(tagger.scan([music], db=tmp_path / "c.db", model=tmp_path))


def test_the_policy_threshold_comes_from_the_option_the_config_or_the_model_card(
        tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    card = json.loads((DEFAULT_MODEL_DIR / "metadata.json").read_text())["scores"]
    assert tagger.write_policy().min_confidence == card["min_confidence"] == 0.8
    config = tmp_path / "config.toml"
    config.write_text("min_confidence = 0.7\n", encoding="utf-8")
    assert tagger.write_policy(config).min_confidence == 0.7
    assert tagger.write_policy(config, min_confidence=0.9).min_confidence == 0.9


def test_album_consensus_groups_a_folder_by_album_tag(tmp_path):
    """Issue 12.3: two albums in one folder get each their own genre: two
    classical clips tagged album "Quiet" and two metal clips tagged "Loud"
    (real GTZAN clips, copied; the shipped model; one folder)."""
    from mutagen.oggvorbis import OggVorbis

    from realdata import shared_data

    gtzan = shared_data("gtzan-dev")
    folder = tmp_path / "Mixed"
    folder.mkdir()
    for name, clip, album in [("1.ogg", "classical/classical.00002.ogg", "Quiet"),
                              ("2.ogg", "classical/classical.00003.ogg", "Quiet"),
                              ("3.ogg", "metal/metal.00000.ogg", "Loud"),
                              ("4.ogg", "metal/metal.00001.ogg", "Loud")]:
        shutil.copyfile(gtzan / clip, folder / name)
        audio = OggVorbis(folder / name)
        audio["album"] = [album]
        audio.save()
    db = tmp_path / "c.db"
    policy = tagger.WritePolicy(0.3, album_consensus=True)
    results = list(tagger.scan([folder], db=db, jobs=1))
    assert sorted(r.album for r in results) == ["Loud", "Loud", "Quiet", "Quiet"]
    cached = tagger.cached(db=db)  # the album tag is kept in the cache
    assert sorted(r.album for r in cached) == ["Loud", "Loud", "Quiet", "Quiet"]
    tagger.write(tagger.plan(cached, policy), db=db)
    assert {p.name: tags.read_genres(p) for p in sorted(folder.iterdir())} == {
        "1.ogg": ["Classical"], "2.ogg": ["Classical"], "3.ogg": ["Metal"], "4.ogg": ["Metal"]}
