import json
import shutil

import pytest

from tagger.constants import DEFAULT_MODEL_DIR
from tagger.errors import ModelError
from tagger.audio.features import MUSICNN_FRONTEND
from tagger.model.card import model_id, read_card
from tagger.model.trust import Trust


def test_model_id_follows_the_files(tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    assert model_id(copy) == model_id(DEFAULT_MODEL_DIR)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["name"] = "other"
    (copy / "metadata.json").write_text(json.dumps(meta))
    assert model_id(copy) != model_id(DEFAULT_MODEL_DIR)


def test_read_card_names_the_folder(tmp_path):
    with pytest.raises(ModelError) as e:
        read_card(tmp_path)
    assert str(e.value) == f"{tmp_path}: not a model folder (no metadata.json)"
    (tmp_path / "metadata.json").write_text(json.dumps({"arch": "cnn", "labels": []}))
    with pytest.raises(ModelError, match="metadata.json lacks 'frontend'"):
        read_card(tmp_path)
    (tmp_path / "metadata.json").write_text(json.dumps(
        {"arch": "cnn", "labels": [], "frontend": {"sample_rate": 16000}}))
    with pytest.raises(ModelError, match="metadata.json has an incomplete 'frontend'"):
        read_card(tmp_path)


def test_a_card_without_scores_or_an_unsure_rule(tmp_path):
    """A model trained before calibration: averaged by the mean, no
    threshold, unsure only when silent."""
    frontend = {k: getattr(MUSICNN_FRONTEND, k) for k in MUSICNN_FRONTEND.__dataclass_fields__}
    meta = {"arch": "crnn", "labels": ["a", "b"], "frontend": frontend, "note": "kept"}
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    card = read_card(tmp_path)
    assert (card.arch, card.labels, card.frontend) == ("crnn", ("a", "b"), MUSICNN_FRONTEND)
    assert (card.aggregation, card.trust, card.min_confidence) == ("mean", Trust(), None)
    assert card.metadata == meta


def test_the_card_holds_the_unsure_rule_and_threshold_as_stored(tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["unsure"] = {"min_confidence": 0.6, "max_distance": 2.5, "dims": 3, "points": 7,
                      "min_variation": 1.0}
    meta["scores"]["min_confidence"] = 0.65
    (copy / "metadata.json").write_text(json.dumps(meta))
    card = read_card(copy)
    assert card.trust == Trust(0.6, 2.5, 3, 7, 1.0) and card.min_confidence == 0.65
    # The per-genre limits and tag profile (issue 24), typed once: tuples.
    meta["unsure"].update({"point_labels": [0, 1, 1, 0, 1, 0, 0], "max_genre_distance": [1.5, 2],
                           "tag_centre": [[0, 0.5], [1, -1]], "tag_spread": [[1, 1], [0.5, 2]],
                           "max_tag_distance": [0.8, 0.9]})
    (copy / "metadata.json").write_text(json.dumps(meta))
    assert read_card(copy).trust == Trust(
        0.6, 2.5, 3, 7, 1.0, (0, 1, 1, 0, 1, 0, 0), (1.5, 2.0), ((0.0, 0.5), (1.0, -1.0)),
        ((1.0, 1.0), (0.5, 2.0)), (0.8, 0.9))
