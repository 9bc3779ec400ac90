import json

import numpy as np
import pytest
from typer.testing import CliRunner

from audiofiles import make_audio
from snapshots import folder_bytes
from tagger.cli import app
from tagger.training.dataset import folds, load_folder
from tagger.errors import DataError, ModelError
from tagger.training.evaluate import expected_calibration_error, scores
from tagger.model.inference import STEADY_DB, GenreModel

runner = CliRunner()


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Two labels anyone can hear apart: drums and tones, 4 clips each."""
    root = tmp_path_factory.mktemp("labelled")
    for label, kind in (("drums", "drums"), ("tones", "tone")):
        (root / label).mkdir()
        for i in range(4):
            make_audio(root / label / f"{label}.{i:05d}.ogg", 3.5 + i * 0.5, kind)
    (root / "empty-label").mkdir()
    return root


def test_load_folder_labels_by_subfolder(labelled):
    data = load_folder(labelled)
    assert data.labels == ["drums", "tones"]
    assert data.counts() == {"drums": 4, "tones": 4}


def test_a_track_too_short_to_judge_is_left_out_of_training_with_its_reason(tmp_path):
    from tagger.audio.features import MUSICNN_FRONTEND
    from tagger.training.dataset import Dataset
    from tagger.training.train import chunks_per_track

    paths = [str(make_audio(tmp_path / "long.flac", 3.5, "drums")),
             str(make_audio(tmp_path / "jingle.flac", 1.0, "drums"))]
    said = []
    kept, chunks = chunks_per_track(Dataset(paths, np.array([0, 0]), ["drums"]),
                                    MUSICNN_FRONTEND, 1, said.append)
    assert kept.paths == paths[:1] and len(chunks) == 1
    assert said == [f"skipped {paths[1]}: too short to judge: 1.0 s"]


def test_folds_split_by_track_and_stratify(labelled):
    data = load_folder(labelled)
    for train, test in folds(data, 2):
        assert not set(train) & set(test)
        assert sorted(data.y[test].tolist()) == [0, 0, 1, 1]
    with pytest.raises(DataError, match="smallest label"):
        folds(data, 5)


def test_not_a_labelled_folder(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(DataError, match="at least two labels"):
        load_folder(tmp_path)


@pytest.mark.parametrize("arch", ["musicnn", "cnn"])
def test_train_save_load_and_evaluate(labelled, tmp_path, arch):
    out = tmp_path / arch
    result = runner.invoke(app, ["train", str(labelled), "--out", str(out), "--arch", arch,
                                 "--epochs", "1", "--cv", "2", "-j", "2"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["labels"] == ["drums", "tones"] and meta["arch"] == arch
    assert meta["data"]["tracks"] == 8
    assert meta["scores"]["cv"]["by"] == {labelled.name: "track"}
    if arch == "musicnn":  # the "unsure" rule, calibrated by the CV
        assert meta["unsure"]["min_confidence"] == meta["scores"]["min_confidence"]
        assert meta["unsure"]["points"] == 8 and meta["unsure"]["max_distance"] > 0
        assert meta["unsure"]["min_variation"] == STEADY_DB
        # The CV's scores name the whole rule they were scored with.
        assert meta["scores"]["cv"]["unsure_rule"] == {
            k: meta["unsure"][k] for k in ("min_confidence", "max_distance", "min_variation",
                                           "max_genre_distance", "max_tag_distance")}
    else:  # no embedding, no distance: the threshold alone
        assert meta["scores"]["cv"]["unsure_rule"]["max_distance"] is None  # was NaN
    model = GenreModel(out, device="cpu")
    assert model.frontend.chunk_frames == (187 if arch == "musicnn" else 250)

    report, picture = tmp_path / "scores.json", tmp_path / "confusion.png"
    result = runner.invoke(app, ["evaluate", str(labelled), "--model", str(out),
                                 "--report", str(report), "--confusion", str(picture)])
    assert result.exit_code == 0, result.output
    got = json.loads(report.read_text())
    assert got["tracks"] == 8 and np.array(got["confusion"]).sum() == 8
    assert got["precision"] in ("float32", "bfloat16")  # what ran, not "auto"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if arch == "musicnn":  # the pretrained backbone separates these at once
        assert got["accuracy"] == 1.0


def test_cv_unsure_counts_a_steady_track_as_the_scan_does():
    from tagger.training.train import CrossValidated

    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4]])
    cv = CrossValidated(probs, np.full(3, np.nan), np.zeros(3, bool), 2,
                        variation=np.array([0.5, 3.0, 3.0]))
    rule = {"min_confidence": 0.7, "max_distance": None, "min_variation": STEADY_DB}
    assert cv.unsure(rule).tolist() == [True, False, True]
    assert cv.unsure({**rule, "min_variation": None}).tolist() == [False, False, True]


def test_cv_scores_held_out_tracks_at_the_scan_precision(labelled, tmp_path):
    """evaluate --cv --precision bfloat16 fits heads on float32 embeddings
    and scores the held-out tracks on bfloat16 ones, as such a scan runs."""
    from tagger.training.train import Settings, prepare

    prep = prepare(load_folder(labelled), Settings(jobs=2, precision="bfloat16"), lambda m: None)
    assert prep.precision == "bfloat16"
    for exact, rounded in zip(prep.emb, prep.test_emb):
        assert exact.shape == rounded.shape
        assert 0 < np.abs(exact - rounded).max() < 0.05 * np.abs(exact).max()
    report = tmp_path / "cv.json"
    result = runner.invoke(app, ["evaluate", str(labelled), "--cv", "2", "--precision", "bfloat16",
                                 "-j", "2", "--report", str(report)])
    assert result.exit_code == 0, result.output
    got = json.loads(report.read_text())
    assert got["precision"] == "bfloat16" and got["accuracy"] == 1.0


def test_scores_by_hand():
    y = np.array([0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.85, 0.15]])
    s = scores(y, probs, ["a", "b"])
    assert s["accuracy"] == 0.6
    assert s["balanced_accuracy"] == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-4)
    assert s["confusion"] == [[1, 1], [1, 2]]
    assert s["per_label"]["b"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "support": 3}
    assert s["calibration"]["confident_share"] == 0.6  # 0.9, 0.8 and 0.85
    assert s["calibration"]["confident_accuracy"] == 0.6667


def test_expected_calibration_error():
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    right = np.array([True, True, True, False])
    assert expected_calibration_error(conf, right) == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)


@pytest.fixture(scope="module")
def by_artist(tmp_path_factory):
    """A second source: drums and noise, 4 clips each by 2 artists, named in
    a manifest.csv."""
    root = tmp_path_factory.mktemp("by-artist")
    rows = ["file,genre,artist"]
    for label, kind in (("drums", "drums"), ("hiss", "noise")):
        (root / label).mkdir()
        for i in range(4):
            make_audio(root / label / f"{i}.ogg", 3.5, kind)
            rows.append(f"{label}/{i}.ogg,{label},{label} artist {i % 2}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def test_evaluate_cv_on_two_folders_scores_each_source_and_the_writes(labelled, by_artist, tmp_path):
    report = tmp_path / "cv.json"
    result = runner.invoke(app, ["evaluate", str(labelled), str(by_artist), "--cv", "2",
                                 "--precision", "float32", "-j", "2", "--report", str(report)])
    assert result.exit_code == 0, result.output
    got = json.loads(report.read_text())
    assert got["labels"] == ["drums", "hiss", "tones"] and got["tracks"] == 16
    assert got["by"] == {labelled.name: "track", by_artist.name: "artist"}
    for name in (labelled.name, by_artist.name):
        part = got["sources"][name]
        assert part["tracks"] == 8 and len(part["labels_seen"]) == 2
        assert set(part["writes"]) == {"coverage", "precision", "written"}
        assert [c["threshold"] for c in part["curve"]][:2] == [0.3, 0.35]
    assert "Writes of the top genre" in result.output


def test_train_refuses_a_folder_of_the_users_and_leaves_it_untouched(labelled, tmp_path):
    """`train --out ~/Music` deleted the folder and exited 0."""
    music = tmp_path / "Music"
    (music / "Band").mkdir(parents=True)
    make_audio(music / "Band" / "song.flac", 1.0, "tone")
    (music / "notes.txt").write_text("mine")
    before = folder_bytes(music)
    result = runner.invoke(app, ["train", str(labelled), "--out", str(music), "-j", "2"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {music}: not empty and not a tagger model (no metadata.json); nothing was "
        "written: give a new or empty folder for the model")
    assert folder_bytes(music) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Music"]  # no temp folder left


def test_train_refuses_a_file_as_out(labelled, tmp_path):
    song = make_audio(tmp_path / "song.mp3", 1.0)
    before = song.read_bytes()
    result = runner.invoke(app, ["train", str(labelled), "--out", str(song)])
    assert result.exit_code == 1 and "exists and is not a folder" in result.output
    assert song.read_bytes() == before


def test_missing_musicnn_weights_are_a_model_error_naming_the_file(tmp_path, monkeypatch):
    """Was a raw h5py FileNotFoundError (an install without models/musicnn)."""
    from tagger.training import train

    missing = tmp_path / "msd_musicnn.weights.h5"
    monkeypatch.setattr(train, "MUSICNN_WEIGHTS", missing)
    with pytest.raises(ModelError, match="cannot load the musicnn weights") as e:
        train.embeddings([])
    assert e.value.path == str(missing)
