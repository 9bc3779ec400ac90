"""Walk a music library: find audio files by extension. Stat only, no decoding."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Iterator

from .constants import AUDIO_EXTENSIONS, TEMP_MARKER


@dataclass(frozen=True)
class Track:
    """An audio file as found on disk: its path, size in bytes and mtime in ns."""

    path: str
    size: int
    mtime_ns: int


def is_audio(name: str) -> bool:
    """True for a file name with an audio extension (any case) that is not hidden."""
    if name.startswith(".") or TEMP_MARKER in name:
        return False
    return os.path.splitext(name)[1][1:].lower() in AUDIO_EXTENSIONS


def is_under(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it (whole path components:
    "/music/a b" is not under "/music/a")."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def top_folders(folders: Iterable[str]) -> list[str]:
    """The folders, without those inside another one of them."""
    out: list[str] = []
    # Sorted by components, a folder's sub-folders come right after it.
    for folder in sorted({f for f in folders if f}, key=lambda f: f.split(os.sep)):
        if not out or not is_under(folder, out[-1]):
            out.append(folder)
    return out


def walk(roots: Iterable[str | os.PathLike], follow_symlinks: bool = False,
         on_error=None) -> Iterator[Track]:
    """Yield the audio files under each root (a folder or a single file).

    Recursive, in a stable order (names sorted within each folder); hidden
    files and folders are skipped; symlinked folders are followed only with
    ``follow_symlinks`` and a folder reached twice (a loop) only once. A path
    that cannot be read is passed to ``on_error(path, reason)`` and skipped.
    """
    seen: set[tuple[int, int]] = set()
    for root in roots:
        root = os.fspath(root)
        try:
            st = os.stat(root)
        except OSError as e:
            _report(on_error, root, e)
            continue
        if os.path.isdir(root):
            yield from _walk_dir(root, follow_symlinks, seen, on_error)
        else:
            yield Track(root, st.st_size, st.st_mtime_ns)


def _walk_dir(folder: str, follow: bool, seen: set, on_error) -> Iterator[Track]:
    try:
        st = os.stat(folder)
    except OSError as e:
        _report(on_error, folder, e)
        return
    if (st.st_dev, st.st_ino) in seen:
        return
    seen.add((st.st_dev, st.st_ino))
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        _report(on_error, folder, e)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=follow):
                yield from _walk_dir(entry.path, follow, seen, on_error)
            elif is_audio(entry.name):
                if entry.is_symlink() and not os.path.exists(entry.path):
                    _report(on_error, entry.path, "broken symbolic link")
                    continue
                est = entry.stat()
                yield Track(entry.path, est.st_size, est.st_mtime_ns)
        except OSError as e:
            _report(on_error, entry.path, e)


def _report(on_error, path: str, reason) -> None:
    if on_error is not None:
        if isinstance(reason, OSError):
            reason = reason.strerror or str(reason)
        on_error(path, str(reason))

