"""tagger.writing.config: the TOML config file, read and checked."""

from __future__ import annotations

import pytest

from tagger.writing.config import default_config_path, load_config
from tagger.errors import TaggerError
from tagger.writing.policy import WritePolicy


def write_config(folder, text):
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_and_cli_overrides(tmp_path):
    path = write_config(tmp_path, """
min_confidence = 0.7
top_k = 2
existing = "merge"
album_consensus = true
include = ["/music/*"]
exclude = ["*/Audiobooks/*"]
model = "default"   # another command's key: passed through

[display_names]
hiphop = "Hip Hop"
""")
    config = load_config(path)
    assert config["model"] == "default"

    pol = WritePolicy.from_config(config, min_confidence=0.8, existing=None)
    assert pol.min_confidence == 0.8  # the CLI option wins
    assert pol.existing == "merge"  # None: not given on the command line
    assert (pol.top_k, pol.album_consensus) == (2, True)
    assert pol.include == ["/music/*"] and pol.exclude == ["*/Audiobooks/*"]
    assert pol.display("hiphop") == "Hip Hop"
    assert pol.display("rock") == "Rock"  # the other defaults remain


def test_default_config_location(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_config_path() == tmp_path / "tagger" / "config.toml"
    assert load_config() == {}  # no file yet: empty config
    (tmp_path / "tagger").mkdir()
    write_config(tmp_path / "tagger", "top_k = 3\n")
    assert load_config() == {"top_k": 3}


def test_explicit_config_must_exist(tmp_path):
    with pytest.raises(TaggerError) as e:
        load_config(tmp_path / "nope.toml")
    assert str(e.value) == f"{tmp_path / 'nope.toml'}: config file not found"


def test_bad_toml_names_the_file(tmp_path):
    path = write_config(tmp_path, "top_k = = 2\n")
    with pytest.raises(TaggerError) as e:
        load_config(path)
    assert str(e.value).startswith(f"{path}: cannot read config: ")


def test_bad_config_value_names_the_file(tmp_path):
    path = write_config(tmp_path, 'existing = "sometimes"\n')
    with pytest.raises(TaggerError) as e:
        load_config(path)
    assert str(e.value) == (f"{path}: existing must be one of keep, merge, "
                            "overwrite, not 'sometimes'")


@pytest.mark.parametrize("text, reason", [
    (b'[display_names]\nhiphop = "Hip\xff Hop"\n',
     "cannot read config: not UTF-8 text (byte 0xff at offset 29)"),
    (b'[display_names]\nhiphop = "Hip\\u0000Hop"\n',
     "display_names: the name for 'hiphop' holds the control character U+0000; use plain text"),
    (b'[display_names]\nrock = "Ro\\u001bck"\n',
     "display_names: the name for 'rock' holds the control character U+001B; use plain text"),
])
def test_a_display_name_that_no_tag_can_hold_is_a_config_error(tmp_path, text, reason):
    path = tmp_path / "config.toml"
    path.write_bytes(text)
    with pytest.raises(TaggerError) as e:
        load_config(path)
    assert str(e.value) == f"{path}: {reason}"
    from typer.testing import CliRunner

    from tagger.cli import app

    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--config", str(path),
                                      "--db", str(tmp_path / "c.db")])
    assert result.exit_code == 1 and result.output == f"Error: {path}: {reason}\n"
