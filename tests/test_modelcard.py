import json
import shutil

import pytest

from tagger.constants import DEFAULT_MODEL_DIR
from tagger.errors import ModelError
from tagger.model.card import model_id, read_metadata


def test_model_id_follows_the_files(tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    assert model_id(copy) == model_id(DEFAULT_MODEL_DIR)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["name"] = "other"
    (copy / "metadata.json").write_text(json.dumps(meta))
    assert model_id(copy) != model_id(DEFAULT_MODEL_DIR)


def test_read_metadata_names_the_folder(tmp_path):
    with pytest.raises(ModelError) as e:
        read_metadata(tmp_path)
    assert str(e.value) == f"{tmp_path}: not a model folder (no metadata.json)"
    (tmp_path / "metadata.json").write_text(json.dumps({"arch": "cnn", "labels": []}))
    with pytest.raises(ModelError, match="metadata.json lacks 'frontend'"):
        read_metadata(tmp_path)
