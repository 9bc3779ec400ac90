"""`tagger train / evaluate --from-tags` on a partly tagged library, from a
scan's cache: scan, learn the library's own genres without decoding, write
them into the untagged half in the library's own spelling."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

import tagger
from musiclibrary import ALBUMS, TRACKS_PER_ALBUM, make_library
from tagger import tags
from tagger.cli import app

runner = CliRunner()
# musiclibrary.ALBUMS: "Classical" 6 + "classical" 3, "Hip-Hop" 6 + "hip hop" 3, 2 untagged albums.
LABELLED = TRACKS_PER_ALBUM * sum(1 for a in ALBUMS if a[3] is not None)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    return make_library(tmp_path_factory.mktemp("made") / "Music")


@pytest.fixture
def library(made, tmp_path):
    """A fresh copy of the partly tagged library, and a cache file for it."""
    root = tmp_path / "Music"
    shutil.copytree(made, root)
    return root, tmp_path / "cache.db"


def _scan(paths, db, *options):
    result = runner.invoke(app, ["scan", *map(str, paths), "--db", str(db), "-j", "2", "-q",
                                 *options])
    assert result.exit_code == 0, result.output
    return result


def test_train_from_tags_after_a_scan_decodes_nothing_and_writes_the_librarys_words(
        library, tmp_path, decoded):
    root, db = library
    _scan([root], db)
    assert len(decoded) == TRACKS_PER_ALBUM * len(ALBUMS)
    decoded.clear()
    out = tmp_path / "mine"
    result = runner.invoke(app, ["train", str(root), "--from-tags", "--db", str(db),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert decoded == []  # every embedding came from the scan's cache
    assert f"{LABELLED} of {LABELLED} tracks' embeddings are in the cache" in result.output
    assert "  Classical: also spelled \"classical\" (3)" in result.output
    assert result.output.rstrip().endswith(
        f"Model written to {out} ({LABELLED} tracks, genres: Classical, Hip-Hop)")
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["labels"] == ["Classical", "Hip-Hop"]
    assert meta["display_names"] == {"Classical": "Classical", "Hip-Hop": "Hip-Hop"}
    assert meta["data"]["per_label"] == {"Classical": 9, "Hip-Hop": 9}
    assert meta["from_tags"]["spellings"] == {"Classical": {"Classical": 6, "classical": 3},
                                              "Hip-Hop": {"Hip-Hop": 6, "hip hop": 3}}
    assert meta["scores"]["cv"]["by"] == {"library": "artist"}
    assert meta["unsure"]["min_confidence"] == meta["scores"]["min_confidence"]

    before = {p: tags.read_genres(p) for p in root.rglob("*.*")}
    _scan([root], db, "--model", str(out), "--write")
    after = {p: tags.read_genres(p) for p in root.rglob("*.*")}
    for path, genres in before.items():
        if genres:  # tagged: kept as it was, whatever its spelling
            assert after[path] == genres
        elif after[path]:  # untagged and written: the library's word for what it is
            assert after[path] == ["Classical" if " keys " in path.name else "Hip-Hop"]
    assert sum(1 for p in before if not before[p] and after[p]) >= 3


def test_train_from_tags_decodes_only_what_the_cache_lacks(library, tmp_path, decoded):
    root, db = library
    _scan([root / "Ana Keys", root / "Cy Beats"], db)  # 3 of the 6 tagged albums
    decoded.clear()
    result = runner.invoke(app, ["train", str(root), "--from-tags", "--db", str(db),
                                 "--out", str(tmp_path / "mine")])
    assert result.exit_code == 0, result.output
    assert sorted(decoded) == sorted(
        str(p) for a in ("Bo Piano", "Di Drums") for p in (root / a).rglob("*.*"))
    assert f"9 of {LABELLED} tracks' embeddings are in the cache" in result.output


def test_evaluate_from_tags_prints_genres_and_the_curve_with_the_default(library):
    root, db = library
    _scan([root], db)
    result = runner.invoke(app, ["evaluate", str(root), "--from-tags", "--cv", "4",
                                 "--db", str(db)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4-fold CV needs 4 albums by different artists in every genre: running 2" in out
    assert "fold 2/2" in out
    assert "│ Classical │" in out and "│ Hip-Hop   │" in out  # precision / recall per genre
    assert "│ default   │" in out
    marked = [line for line in out.splitlines() if " * " in line and line.startswith("│ >=")]
    assert len(marked) == 1  # the default threshold, marked on the curve


def test_train_from_tags_refuses_a_scratch_architecture(library, tmp_path):
    root, db = library
    result = runner.invoke(app, ["train", str(root), "--from-tags", "--arch", "cnn",
                                 "--db", str(db), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: --from-tags trains the musicnn head only (--arch musicnn)")


def test_a_models_display_names_come_before_the_defaults_and_after_the_config(tmp_path):
    """A library spelling "pop" and "rock" in lower case got "Pop" and "Rock"
    written: the shipped labels' display names caught the learnt labels."""
    from tagger.constants import DEFAULT_MODEL_DIR

    model = tmp_path / "model"
    model.mkdir()
    meta = json.loads((DEFAULT_MODEL_DIR / "metadata.json").read_text())
    meta.update(labels=["pop", "rock"], display_names={"pop": "pop", "rock": "rock"})
    (model / "metadata.json").write_text(json.dumps(meta))
    config = tmp_path / "config.toml"
    config.write_text('[display_names]\nrock = "Rock music"\n')
    policy = tagger.write_policy(config, model=model)
    assert policy.display("pop") == "pop"
    assert policy.display("rock") == "Rock music"
    assert tagger.write_policy(config).display("pop") == "Pop"  # the shipped model: as before


def test_files_of_genres_left_out_calibrate_the_writes_as_wrong_ones(library, tmp_path,
                                                                      monkeypatch):
    """The library's own music of genres it cannot learn is what a default
    write would get wrong: the threshold is calibrated with it."""
    from tagger.training import train

    root, db = library
    extra = make_library(tmp_path / "extra", [("Gil Horns", "Brass", "keys", "Brass", ".ogg")])
    shutil.move(str(extra / "Gil Horns"), str(root / "Gil Horns"))  # 3 files: left out
    seen = {}
    real = train.calibrate

    def calibrate(data, probs, distance, *args, fit=None, **kwargs):
        seen.update(y=data.y.tolist(), probs=probs, distance=distance, fit=fit, args=args)
        return real(data, probs, distance, *args, fit=fit, **kwargs)

    monkeypatch.setattr(train, "calibrate", calibrate)
    _scan([root], db)
    result = runner.invoke(app, ["evaluate", str(root), "--from-tags", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "left out Brass: 3 files, fewer than 5" in result.output
    assert "calibrating the writes with 3 files of the genres left out" in result.output
    assert seen["y"].count(-1) == 3 and len(seen["y"]) == LABELLED + 3
    assert seen["probs"].shape == (LABELLED + 3, 2) and not np.isnan(seen["distance"]).any()
    # The per-genre limits are fitted on the labelled tracks only; the left-out ones are writes.
    assert seen["fit"].tolist() == [True] * LABELLED + [False] * 3
    genre_distance, tag_distance = seen["args"]
    assert genre_distance.shape == tag_distance.shape == (LABELLED + 3,)
