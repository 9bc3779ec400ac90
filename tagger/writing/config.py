"""The user's config file: ``<user config dir>/tagger/config.toml``, TOML,
read and checked so that a bad value is one error naming the file."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path

import platformdirs

from ..constants import APP_NAME
from ..errors import TaggerError
from .policy import WritePolicy, check_option

CONFIG_NAME = "config.toml"


def default_config_path() -> Path:
    """``<user config dir>/tagger/config.toml`` (platformdirs)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_NAME


def load_config(path: str | os.PathLike | None = None) -> dict:
    """Read the TOML config: ``path``, or ``default_config_path()`` when None.

    A missing default file is an empty config; a missing explicit one, bad
    TOML or a bad value for a known key (min_confidence, top_k, existing,
    display_names, album_consensus, include, exclude) raises TaggerError
    naming the file. Other keys are returned untouched for other commands.

    Example::

        min_confidence = 0.6
        top_k = 2
        existing = "merge"
        album_consensus = true
        exclude = ["*/Audiobooks/*"]
        [display_names]
        hiphop = "Hip Hop"
    """
    explicit = path is not None
    path = Path(path) if explicit else default_config_path()
    if not path.is_file():
        if explicit:
            raise TaggerError("config file not found", path)
        return {}
    try:
        with open(path, "rb") as fh:
            config = tomllib.load(fh)
    except UnicodeDecodeError as e:
        raise TaggerError(f"cannot read config: not UTF-8 text (byte 0x{e.object[e.start]:02x} "
                          f"at offset {e.start})", path) from e
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise TaggerError(f"cannot read config: {e}", path) from e
    for name in (f.name for f in dataclasses.fields(WritePolicy)):
        if name in config:
            try:
                check_option(name, config[name])
            except ValueError as e:
                raise TaggerError(str(e), path) from None
    return config
