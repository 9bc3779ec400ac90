"""Scores, calibration and writes of small hand-made predictions, and their renderings."""

import numpy as np
import pytest
from rich.console import Console

from tagger.training.dataset import Dataset
from tagger.errors import TaggerError
from tagger.training.evaluate import CURVE, expected_calibration_error, scores, source_scores, writes
from tagger.training.scorecard import confusion_png, confusion_table, scores_table, writes_table

LABELS = ["blues", "jazz", "rock"]
# Five tracks: three right (0, 1, 2), two wrong (truth 0 -> rock, truth 2 -> jazz).
Y = np.array([0, 1, 2, 0, 2])
PROBS = np.array([[0.9, 0.05, 0.05],
                  [0.1, 0.7, 0.2],
                  [0.2, 0.2, 0.6],
                  [0.3, 0.1, 0.6],
                  [0.05, 0.85, 0.1]])


def test_scores_by_hand():
    s = scores(Y, PROBS, LABELS)
    assert s["tracks"] == 5
    assert s["accuracy"] == 0.6
    assert s["confusion"] == [[1, 0, 1], [0, 1, 0], [0, 1, 1]]
    # recalls 1/2, 1, 1/2
    assert s["balanced_accuracy"] == round((0.5 + 1 + 0.5) / 3, 4)
    assert s["per_label"]["jazz"] == {"precision": 0.5, "recall": 1.0, "f1": round(2 / 3, 4),
                                      "support": 1}
    # confident (>= 0.8): tracks 0 (right) and 4 (wrong)
    assert s["calibration"]["confident_share"] == 0.4
    assert s["calibration"]["confident_accuracy"] == 0.5


def test_a_label_never_seen_or_predicted_scores_zero():
    s = scores(np.array([0, 0]), np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0]]), LABELS)
    assert s["per_label"]["rock"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert s["balanced_accuracy"] == 1.0
    assert s["calibration"]["confident_accuracy"] == 1.0


def test_expected_calibration_error():
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    # perfectly calibrated bins: 0.9-1.0 all right would be off by 0.05 ...
    assert expected_calibration_error(conf, np.array([True, True, True, False])) == \
        pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    # ... and always wrong at 0.95 is off by 0.95 in that half
    assert expected_calibration_error(conf, np.array([False, False, True, False])) == \
        pytest.approx(0.5 * 0.95 + 0.5 * 0.05)
    assert expected_calibration_error(np.array([0.3]), np.array([False]), bins=2) == \
        pytest.approx(0.3)


def test_writes_coverage_and_precision():
    assert writes(Y, PROBS, np.array([True, True, False, False, True])) == {
        "coverage": 0.6, "precision": round(2 / 3, 4), "written": 3}
    assert writes(Y, PROBS, np.zeros(5, bool)) == {"coverage": 0.0, "precision": None,
                                                   "written": 0}


def dataset():
    return Dataset([f"/m/{i}.flac" for i in range(5)], Y, LABELS,
                   sources=["a", "a", "a", "b", "b"])


def test_source_scores_per_source_and_curve():
    out = source_scores(dataset(), PROBS, unsure=np.array([False, False, False, False, True]),
                        min_confidence=0.65)
    # default writes: not unsure and confidence >= 0.65 -> tracks 0 and 1, both right
    assert out["writes"] == {"coverage": 0.4, "precision": 1.0, "written": 2}
    a, b = out["sources"]["a"], out["sources"]["b"]
    assert a["labels_seen"] == LABELS and b["labels_seen"] == ["blues", "rock"]
    assert b["accuracy"] == 0.0 and b["balanced_accuracy"] == 0.0
    assert [c["threshold"] for c in a["curve"]] == [float(t) for t in CURVE]
    at_050 = next(c for c in a["curve"] if c["threshold"] == 0.5)
    assert at_050 == {"threshold": 0.5, "coverage": 1.0, "precision": 1.0, "written": 3}


def test_tables_render():
    out = source_scores(dataset(), PROBS, min_confidence=0.5)
    console = Console(record=True, width=160)
    tables = scores_table(out), confusion_table(out), writes_table(out, 0.5)
    for table in tables:
        console.print(table)
    text = console.export_text()
    assert tables[0].title == "5 tracks: accuracy 0.600, balanced accuracy 0.667"
    assert "│ jazz  │     0.500 │  1.000 │ 0.667 │      1 │" in text
    assert "│ rock  │     . │    1 │    1 │" in text
    assert "│ >= 0.50 * │ 100% / 100.0% │ 100% / 0.0% │" in text


def test_confusion_png(tmp_path):
    out = scores(Y, PROBS, LABELS)
    confusion_png(out, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(TaggerError, match="cannot write the picture"):
        confusion_png(out, tmp_path / "missing" / "c.png")
