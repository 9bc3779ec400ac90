"""Writing a model folder safely: only into a new or empty folder or over a
tagger model, synced, swapped in atomically, never deleting a user's files."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ..errors import ModelError
from ..model.card import METADATA, WEIGHTS

MODEL_FILES = (WEIGHTS, METADATA)  # what save writes: all a replaced model loses
MODEL_TEMP = ".tagger-model-"  # in the hidden names of a model being written or swapped


def check_out(out: str | os.PathLike) -> Path:
    """``out`` (symbolic links resolved) when a model may be written there: a
    new or empty folder, or a tagger model (it holds metadata.json), which is
    then replaced. ModelError naming the folder otherwise: a model is never
    written into a folder of the user's, and nothing of theirs is deleted."""
    out = Path(os.path.realpath(out))
    if not os.path.lexists(out):
        return out
    if not out.is_dir():
        raise ModelError("exists and is not a folder; give a new folder for the model", out)
    try:
        entries = os.listdir(out)
    except OSError as e:
        raise ModelError(f"cannot read the folder: {e.strerror}", out) from e
    if entries and METADATA not in entries:
        raise ModelError(f"not empty and not a tagger model (no {METADATA}); nothing was "
                         "written: give a new or empty folder for the model", out)
    return out


def save(network, meta: dict, out: str | os.PathLike) -> None:
    """Write model.weights.h5 and metadata.json as the folder ``out``: new,
    empty, or a tagger model that is replaced (``check_out``). The model is
    written into a new hidden sibling folder, synced, and swapped with
    ``out`` in one atomic rename, so a kill leaves the old model or the new
    one, whole. Files of the user's in an old model folder are moved into
    the new one; only the old model's own files are deleted."""
    out = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    new = out.with_name(f".{out.name}{MODEL_TEMP}{secrets.token_hex(4)}")
    new.mkdir()
    try:
        network.save_weights(new / WEIGHTS)
        (new / METADATA).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        for name in MODEL_FILES:
            _fsync(new / name)
        if os.path.lexists(out):
            _exchange(new, out)
            _retire(new, out)  # ``new`` now holds the previous folder
        else:
            new.rename(out)
        _fsync(out.parent)
    except OSError as e:
        raise ModelError(f"cannot write the model: {e.strerror or e}", out) from e
    finally:
        if new.is_dir() and set(os.listdir(new)) <= set(MODEL_FILES):
            for name in MODEL_FILES:
                (new / name).unlink(missing_ok=True)
            new.rmdir()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders: atomically with Linux's renameat2(RENAME_EXCHANGE);
    elsewhere (or on a file system without it) with two renames, so that a
    kill between them leaves the old model whole under ``a``'s hidden name."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        renameat2 = None
    if renameat2 is not None:
        at_fdcwd, rename_exchange = -100, 2
        if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
            return
        errno = ctypes.get_errno()
        if errno not in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
            raise OSError(errno, os.strerror(errno), os.fspath(b))
    aside = b.with_name(f".{b.name}{MODEL_TEMP}{secrets.token_hex(4)}")
    b.rename(aside)
    try:
        a.rename(b)
    except OSError:
        aside.rename(b)
        raise
    aside.rename(a)


def _retire(old: Path, out: Path) -> None:
    """Delete the replaced model's own files; anything else in its folder
    (the user's) moves into the new model folder, never deleted."""
    for name in os.listdir(old):
        if name in MODEL_FILES:
            (old / name).unlink()
        elif not os.path.lexists(out / name):
            (old / name).rename(out / name)
    old.rmdir()
