"""Edit a file in place, kill-safe: a synced backup beside it, journaled first.

``commit`` runs a tag edit on the file itself (same inode, links, owner,
mode, xattrs) after copying it to a hidden backup that the caller records in
its journal, and can hand the caller the ``delta`` that gives the old bytes
back; ``rebuild`` gives them back (undo), in place the same way;
``restore_backup`` puts a backup back (a failed edit, or the journal's
recovery after a kill); ``remove_stale_temps`` clears what killed writes
left that nothing needs. Nothing here knows a tag format.
"""

from __future__ import annotations

import contextlib
import filecmp
import hashlib
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import mutagen

from ..constants import BACKUP_MARKER, TEMP_MARKER
from ..errors import TagError
from .delta import Delta, diff, patch

_COPY_BLOCK = 1024 * 1024  # bytes per read when copying a file
_NAME_BYTES = 100  # at most this much of the file's name in a backup's name
_NAME_HASH = 8  # hex digits of the hash of the file's whole name in a backup's name


def commit(path: str | os.PathLike, edit: Callable[[Path], None], *,
           check: Callable[[Path], object] | None = None,
           on_backup: Callable[[Path], None] | None = None,
           on_edited: Callable[[Delta], None] | None = None) -> None:
    """Apply ``edit`` (a genre edit of the file at the path it is given) in place.

    The file keeps its identity: the same inode, so hard links stay one file
    with the new tags, and its owner, mode, extended attributes and ACLs stay
    as they were. How a kill at any moment still leaves a whole file:

    0. a file that is not a writable regular file in a writable folder is
       refused, and so is one ``check(file)`` raises a TagError for (the
       caller's test that the edit can read it), before anything is copied;
    1. the file is copied to a hidden backup beside it (copied under a
       TEMP_MARKER name, synced, then renamed to a BACKUP_MARKER name);
    2. ``on_backup(backup)`` is called: the caller commits the backup's path
       to its journal (an exception there removes the backup and is re-raised,
       the file untouched);
    3. ``edit`` changes the file itself (mutagen edits in place), which is
       then synced;
    4. ``on_edited(delta)`` is called with the ``delta.Delta`` that rebuilds
       the old bytes from the new ones: the caller commits it to its journal
       (an exception there rolls the edit back and is re-raised);
    5. the backup is removed.

    After a kill between 2 and 5, ``restore_backup`` copies the backup's bytes
    back into the file (the journal's recovery does this, for a backup its
    journal still records). A failed edit is rolled back from the backup at
    once. A symlink is followed. Raises TagError naming ``path``; the file is
    then as it was.
    """
    _commit(path, lambda target, _backup: edit(target), check, on_backup, on_edited)


def rebuild(path: str | os.PathLike, delta: Delta, *,
            on_backup: Callable[[Path], None] | None = None) -> None:
    """Put back the bytes the edit ``delta`` records replaced, in place and
    kill-safe as ``commit`` edits (``on_backup`` likewise). The caller checks
    first that the file holds the bytes that edit left (``delta.written_sha256``);
    bytes rebuilt that are not the original's (``delta.original_sha256``)
    are rolled back. Raises TagError naming ``path``; the file is then as it was.
    """
    def edit(target: Path, backup: Path) -> None:
        with open(backup, "rb") as written, open(target, "r+b") as out:
            digest = patch(delta, written, out)
            out.truncate()
        if digest != delta.original_sha256:
            raise ValueError("the bytes rebuilt are not those from before the write")

    _commit(path, edit, None, on_backup, None)


def _commit(path, edit: Callable[[Path, Path], None], check, on_backup, on_edited) -> None:
    """``commit``, with ``edit(target, backup)``."""
    target = Path(os.path.realpath(path))
    _writable_stat(target, path)
    if check is not None:
        check(target)
    with _ctrl_c_held() as interrupted:  # a Ctrl-C stops the copy, else waits to the end
        backup = make_backup(target, path, interrupted)
        try:
            if on_backup is not None:
                on_backup(backup)
        except BaseException:
            backup.unlink(missing_ok=True)
            raise
        try:
            edit(target, backup)
            _fsync_file(target)
            if on_edited is not None:
                on_edited(diff(backup, target))
        except (OSError, mutagen.MutagenError, ValueError) as e:
            _roll_back(backup, target, path, e)
            raise TagError(f"could not write genres: {e}", path) from e
        except BaseException as e:  # e.g. a Ctrl-C that came before it was held
            _roll_back(backup, target, path, e)
            raise
        # The edit is on disk; a backup that cannot be removed is only clutter,
        # which the next run's ``remove_stale_temps`` removes.
        with contextlib.suppress(OSError):
            backup.unlink()


def restore_backup(backup: str | os.PathLike, target: str | os.PathLike) -> None:
    """Put a write's backup back: its bytes into ``target`` in place (same
    inode, links and attributes), its modification time too; then remove it.

    When ``target`` no longer exists, the backup is renamed to it instead, so
    the whole old file is never lost. Raises OSError.
    """
    backup, target = Path(backup), Path(target)
    if not target.exists():
        os.rename(backup, target)
        _fsync_dir(target.parent)
        return
    st = backup.stat()
    with open(backup, "rb") as src, open(target, "r+b") as dst:
        shutil.copyfileobj(src, dst, _COPY_BLOCK)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    backup.unlink()


def remove_stale_temps(root: str | os.PathLike) -> list[Path]:
    """Delete what interrupted runs left under ``root``; return it.

    Run it after the journal's ``recover``, which puts back every backup its
    journal recorded, and when no other tagger process is writing in that
    folder. Only hidden files named by ``make_backup`` are touched: every
    TEMP_MARKER file (a copy cut short), and a BACKUP_MARKER backup whose
    bytes equal its file's (the edit never began: nothing needs it). Any
    other backup is kept: its file is gone (it may be the only copy), or it
    differs, which a kill mid-edit under another cache file's journal leaves,
    and only that journal's ``recover`` can tell whether it must go back. A
    file that cannot be removed is skipped.
    """
    removed = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not name.startswith("."):
                continue
            stale = Path(folder) / name
            if TEMP_MARKER in name or (BACKUP_MARKER in name and _same_as_original(stale)):
                try:
                    stale.unlink()
                except OSError:
                    continue
                removed.append(stale)
    return sorted(removed)


def _same_as_original(backup: Path) -> bool:
    """Whether ``backup``'s file is there and holds the same bytes."""
    original = original_of(backup)
    try:
        return original is not None and filecmp.cmp(original, backup, shallow=False)
    except OSError:
        return False


def original_of(copy: Path) -> Path | None:
    """The file a backup or temp copy (``make_backup``'s names) was made of,
    if it is there. Its name may be cut in the copy's name; the hash of the
    whole name that follows the marker finds it."""
    marker = TEMP_MARKER if TEMP_MARKER in copy.name else BACKUP_MARKER
    stem, _, tail = copy.name[1:].partition(marker)
    if tail[_NAME_HASH:_NAME_HASH + 1] == "-":
        try:
            names = [n for n in os.listdir(copy.parent)
                     if n.startswith(stem) and _name_hash(n) == tail[:_NAME_HASH]]
        except OSError:
            return None
    else:  # an older tagger's backup: the whole name, unless it was cut
        names = [stem]
    return next((copy.parent / n for n in names if (copy.parent / n).is_file()), None)


def make_backup(target: Path, name: str | os.PathLike,
                interrupted: Callable[[], bool] = lambda: False) -> Path:
    """A synced copy of ``target`` beside it, under a BACKUP_MARKER name.

    It is copied under a TEMP_MARKER name first, so that a half-made backup
    is never taken for a whole one. A Ctrl-C mid-copy, or ``interrupted()``
    turning true (checked between blocks), removes it and raises
    KeyboardInterrupt. Its name:
    ``.NAME.tagger-backup-HASH-RANDOM``, NAME cut to 100 bytes, HASH that of
    the whole name (``original_of`` finds the file by it). Its times are the
    original's. Raises TagError naming ``name``.
    """
    stem = target.name
    while len(os.fsencode(stem)) > _NAME_BYTES:
        stem = stem[:-1]
    prefix = f".{stem}{TEMP_MARKER}{_name_hash(target.name)}-"
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
    except OSError as e:
        raise TagError(f"cannot create a backup beside it: {e.strerror or e}", name) from e
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as dst, open(target, "rb") as src:
            _copy(src, dst, interrupted)
            dst.flush()
            os.fsync(dst.fileno())
        st = target.stat()
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        backup = tmp.with_name(tmp.name.replace(TEMP_MARKER, BACKUP_MARKER, 1))
        os.rename(tmp, backup)
        _fsync_dir(target.parent)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise TagError(f"cannot create a backup beside it: {e.strerror or e}", name) from e
    except BaseException:  # a Ctrl-C mid-copy: no partial copy is left behind
        tmp.unlink(missing_ok=True)
        raise
    return backup


def _copy(src, dst, interrupted: Callable[[], bool]) -> None:
    """Copy a file's bytes a block at a time, stopping at a Ctrl-C."""
    while block := src.read(_COPY_BLOCK):
        if interrupted():
            raise KeyboardInterrupt
        dst.write(block)


def _writable_stat(target: Path, path: str | os.PathLike) -> None:
    """Stat the file, refusing one we must not edit.

    Root passes ``os.access`` whatever the mode, hence the permission-bit
    tests too: a file or folder nobody may write is read-only for tagger, as
    root too. The folder matters because the backup is made there.
    """
    try:
        st = target.stat()
        folder = target.parent.stat()
        mounted_read_only = hasattr(os, "statvfs") and bool(
            os.statvfs(target.parent).f_flag & os.ST_RDONLY)
    except OSError as e:
        raise TagError(f"cannot stat file: {e.strerror}", path) from e
    if not stat.S_ISREG(st.st_mode):
        raise TagError("not a regular file", path)
    if mounted_read_only:
        raise TagError("the file system it is on is mounted read-only", path)
    if not os.access(target, os.W_OK) or not st.st_mode & 0o222:
        raise TagError("file is read-only", path)
    if not os.access(target.parent, os.W_OK | os.X_OK) or not folder.st_mode & 0o222:
        raise TagError("folder is read-only (the backup copy goes beside the file)", path)


def _roll_back(backup: Path, target: Path, name, error: BaseException) -> None:
    """After a failed edit: the backup's bytes back into the file."""
    try:
        restore_backup(backup, target)
    except OSError as e:
        raise TagError(f"could not write genres: {error}; and putting the original "
                       f"back failed ({e.strerror or e}): it is kept in {backup}, "
                       "which tagger's next write or undo run puts back", name) from e


def _name_hash(name: str) -> str:
    """A short hash of a file's whole name, in its backup's name."""
    return hashlib.blake2b(os.fsencode(name), digest_size=_NAME_HASH // 2).hexdigest()


@contextlib.contextmanager
def _ctrl_c_held():
    """Hold back SIGINT (Ctrl-C) until the block ends, so that it never cuts an
    edit between its steps: it arrives once the file is whole and the journal
    says so. Yields a function that tells whether one came (a copy checks it
    to stop early). Python runs signal handlers in the main thread whichever
    thread the signal reached, so its handler is swapped for one that notes
    it (a signal mask would not do: other threads, TensorFlow's, take the
    signal). Only where Python lets a handler be set (the main thread); a
    kill (SIGKILL) is the journal's to recover from."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    try:
        yield lambda: bool(caught)
    finally:
        signal.signal(signal.SIGINT, previous)
        # Delivered also when the block failed (the edit rolled back): a
        # Ctrl-C is never swallowed by a failed file; not twice if the block
        # already ended with it.
        if (caught and callable(previous)
                and not isinstance(sys.exc_info()[1], KeyboardInterrupt)):
            previous(signal.SIGINT, caught[0])  # Python's own raises KeyboardInterrupt


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make a new or renamed name durable. Not possible on Windows, where it is skipped."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
