"""tagger.training.modelstore: a model folder is written whole or not at all, and a
folder of the user's is never overwritten or emptied."""

import json

import pytest

from snapshots import folder_bytes


def _tiny_network(seed: int):
    from tagger.model.tfruntime import import_tensorflow

    tf = import_tensorflow()
    tf.keras.utils.set_random_seed(seed)
    net = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    return net


def test_save_writes_a_new_or_empty_folder_and_replaces_a_model(tmp_path):
    from tagger.training.modelstore import save

    out = tmp_path / "models" / "mine"
    save(_tiny_network(0), {"labels": ["a"], "run": 1}, out)
    first = (out / "model.weights.h5").read_bytes()
    (out / "README.txt").write_text("the user's notes")  # kept through a replace
    save(_tiny_network(1), {"labels": ["a"], "run": 2}, out)
    assert json.loads((out / "metadata.json").read_text())["run"] == 2
    assert (out / "model.weights.h5").read_bytes() != first
    assert (out / "README.txt").read_text() == "the user's notes"
    assert sorted(p.name for p in out.parent.iterdir()) == ["mine"]  # nothing hidden left
    empty = tmp_path / "empty"
    empty.mkdir()
    save(_tiny_network(0), {"labels": ["a"]}, empty)
    assert sorted(p.name for p in empty.iterdir()) == ["metadata.json", "model.weights.h5"]
    assert oct(empty.stat().st_mode & 0o777) == oct(out.stat().st_mode & 0o777)


def test_a_failed_replace_leaves_the_old_model_whole(tmp_path, monkeypatch):
    from tagger.training import modelstore as T
    from tagger.errors import ModelError

    out = tmp_path / "mine"
    T.save(_tiny_network(0), {"labels": ["a"], "run": 1}, out)
    before = folder_bytes(out)

    def full_disk(self, path):
        raise OSError(28, "No space left on device")

    net = _tiny_network(1)
    monkeypatch.setattr(type(net), "save_weights", full_disk)
    with pytest.raises(ModelError, match="No space left on device"):
        T.save(net, {"labels": ["a"], "run": 2}, out)
    assert folder_bytes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
