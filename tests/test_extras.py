"""Commands that need the `train` extra say what to install when it is
missing (it was an ImportError traceback)."""

import sys

import pytest
from typer.testing import CliRunner

from audiofiles import make_audio
from tagger.cli import app

runner = CliRunner()


@pytest.fixture
def labelled(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        make_audio(tmp_path / label / "x.wav", 1.0)
    return tmp_path


@pytest.mark.parametrize("module, args, message", [
    ("sklearn", ["train", "{data}", "--out", "{tmp}/m"],
     "tagger train needs scikit-learn, which is not installed: pip install 'tagger[train]' "
     "(with pipx: pipx inject tagger scikit-learn)"),
    ("sklearn", ["evaluate", "{data}", "--cv", "2"],
     "tagger evaluate needs scikit-learn, which is not installed: pip install 'tagger[train]' "
     "(with pipx: pipx inject tagger scikit-learn)"),
    ("matplotlib", ["evaluate", "{data}", "--confusion", "{tmp}/c.png"],
     "tagger evaluate needs matplotlib, which is not installed: pip install 'tagger[train]' "
     "(with pipx: pipx inject tagger matplotlib)"),
])
def test_a_missing_extra_names_the_install_command(labelled, tmp_path, monkeypatch,
                                                   module, args, message):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    args = [a.format(data=labelled, tmp=tmp_path) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: {message}\n"
    assert not (tmp_path / "m").exists()
