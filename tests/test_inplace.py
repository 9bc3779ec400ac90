"""tagger.tags.inplace: in-place edits behind a synced backup, on real files (audiofiles.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from mutagen.flac import FLAC

from audiofiles import AudioLibrary, leftovers
from tagger.tags import inplace as tagcommit
from tagger.constants import BACKUP_MARKER, TEMP_MARKER
from tagger.errors import TagError
from unprivileged import run_python


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    return AudioLibrary(tmp_path_factory.mktemp("originals"))


def set_genre(target):
    """An edit as tags gives commit: mutagen rewrites the file in place."""
    audio = FLAC(target)
    audio["GENRE"] = ["Jazz"]
    audio.save()


def never(target):
    raise AssertionError(f"edited {target}")


def test_the_edit_is_in_place_after_a_synced_backup_is_reported(library, tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)
    original, before = path.read_bytes(), path.stat()
    seen = []

    def edit(target):
        [backup] = [p for p in tmp_path.iterdir() if BACKUP_MARKER in p.name]
        seen.append(("edit", target, backup.read_bytes() == original))
        set_genre(target)

    tagcommit.commit(path, edit, on_backup=lambda b: seen.append(("backup", b)))

    assert [step[0] for step in seen] == ["backup", "edit"]
    (_, backup), (_, target, whole) = seen
    assert backup.parent == tmp_path and backup.name.startswith(f".{path.name}{BACKUP_MARKER}")
    assert target == path and whole
    assert FLAC(path)["GENRE"] == ["Jazz"] and path.stat().st_ino == before.st_ino
    assert not backup.exists() and leftovers(tmp_path) == []


def test_a_failed_edit_is_rolled_back_from_the_backup(library, tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)
    data, before = path.read_bytes(), path.stat()

    def half_done(target):  # the edit breaks the file, then fails
        with open(target, "r+b") as f:
            f.truncate(before.st_size // 2)
        raise OSError(28, "No space left on device")

    with pytest.raises(TagError) as e:
        tagcommit.commit(path, half_done)
    assert str(e.value) == (f"{path}: could not write genres: "
                            "[Errno 28] No space left on device")
    assert path.read_bytes() == data
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert leftovers(tmp_path) == []


def test_a_failing_journal_leaves_the_file_untouched(library, tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)
    data = path.read_bytes()

    def journal_full(backup):
        raise TagError("write journal: database or disk is full", path)

    with pytest.raises(TagError, match="disk is full"):
        tagcommit.commit(path, never, on_backup=journal_full)
    assert path.read_bytes() == data
    assert leftovers(tmp_path) == []


def test_a_refused_check_stops_before_any_copy(library, tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)

    def unreadable(target):
        raise TagError("cannot read tags: not a FLAC file", path)

    with pytest.raises(TagError, match="cannot read tags"):
        tagcommit.commit(path, never, check=unreadable,
                         on_backup=lambda b: pytest.fail("backup made"))
    assert leftovers(tmp_path) == []


def test_restore_backup_puts_the_old_bytes_back_into_the_same_file(library, tmp_path):
    path = library.copy("ogg", tmp_path, tagged=True)
    link = tmp_path / "link.ogg"
    os.link(path, link)
    data = path.read_bytes()
    backup = tagcommit.make_backup(path, path)
    with open(path, "r+b") as f:  # a kill caught the edit half-way
        f.truncate(len(data) // 3)

    tagcommit.restore_backup(backup, path)

    assert path.read_bytes() == link.read_bytes() == data
    assert path.stat().st_nlink == 2
    assert leftovers(tmp_path) == []


def test_restore_backup_of_a_file_gone_since_brings_it_back(library, tmp_path):
    path = library.copy("ogg", tmp_path, tagged=True)
    data = path.read_bytes()
    backup = tagcommit.make_backup(path, path)
    path.unlink()
    tagcommit.restore_backup(backup, path)
    assert path.read_bytes() == data and leftovers(tmp_path) == []


def test_a_read_only_folder_is_refused_even_as_root(library, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = library.copy("mp3", folder, tagged=True)
    data = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(TagError) as e:
            tagcommit.commit(path, never)
    finally:
        folder.chmod(0o755)
    assert str(e.value) == (f"{path}: folder is read-only "
                            "(the backup copy goes beside the file)")
    assert path.read_bytes() == data and leftovers(folder) == []


def test_no_room_for_the_backup_is_refused_cleanly(library, tmp_path, monkeypatch):
    path = library.copy("mp3", tmp_path, tagged=True)
    data = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tagcommit, "_copy", full)
    with pytest.raises(TagError) as e:
        tagcommit.commit(path, never)
    assert str(e.value) == f"{path}: cannot create a backup beside it: No space left on device"
    assert path.read_bytes() == data and leftovers(tmp_path) == []


def test_remove_stale_temps(tmp_path):
    nested = tmp_path / "Artist" / "Album"
    nested.mkdir(parents=True)
    stale = [tmp_path / f".a.mp3{TEMP_MARKER}x1y2",
             nested / f".b.flac{TEMP_MARKER}abcd"]
    kept = [tmp_path / "a.mp3", nested / "b.flac", nested / ".hidden",
            nested / f"visible{TEMP_MARKER}1"]  # not ours: temps are hidden
    for p in stale + kept:
        p.write_bytes(b"x")

    assert tagcommit.remove_stale_temps(tmp_path) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert tagcommit.remove_stale_temps(tmp_path) == []


def test_remove_stale_temps_removes_only_the_backups_nothing_can_need(tmp_path):
    # The journal's recover has run: a backup left now that equals its file
    # was made before its edit began. One that differs may be another cache
    # file's journal's, still needed to put a killed edit back: kept, as is
    # one whose file is gone (it may be the only copy).
    untouched = tmp_path / "a.mp3"  # interrupted before the edit began
    edited = tmp_path / "b.mp3"  # edited since: kept (removing it failed before)
    for p in (untouched, edited):
        p.write_bytes(b"old tags, audio")
    unneeded, needed = (tagcommit.make_backup(p, p) for p in (untouched, edited))
    edited.write_bytes(b"new tags, audio")
    orphan = tagcommit.make_backup(untouched, untouched).rename(
        tmp_path / f".c.mp3{BACKUP_MARKER}9abc")  # its file is gone: maybe the only copy

    assert tagcommit.remove_stale_temps(tmp_path) == [unneeded]
    assert orphan.read_bytes() == needed.read_bytes() == b"old tags, audio"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [orphan.name, needed.name, "a.mp3", "b.mp3"])


def test_a_ctrl_c_is_delivered_when_the_edit_it_waited_for_fails(library, tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)
    data = path.read_bytes()

    def failing(target):
        os.kill(os.getpid(), signal.SIGINT)
        raise OSError("disk gone")

    with pytest.raises(KeyboardInterrupt):  # was TagError: the Ctrl-C was lost
        tagcommit.commit(path, failing)
    assert path.read_bytes() == data and leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("name", [
    "幸せな日々" * 8 + ".flac",  # 120 bytes of UTF-8: cut in the backup's name
    "a" * 100 + ".mp3",  # cut right before the suffix
    "Track.mp3",
])
def test_a_backup_is_matched_to_its_file_whatever_the_names_length(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"tags and audio")
    (tmp_path / (name[:-2] + "x.mp3")).write_bytes(b"another file")  # a near name
    backup = tagcommit.make_backup(path, path)
    assert len(os.fsencode(backup.name)) < 160
    assert tagcommit.original_of(backup) == path
    assert tagcommit.remove_stale_temps(tmp_path) == [backup]
    path.unlink()
    kept = tagcommit.make_backup(tmp_path / (name[:-2] + "x.mp3"), name)
    assert tagcommit.original_of(kept) == tmp_path / (name[:-2] + "x.mp3")


def test_ctrl_c_mid_copy_leaves_no_partial_copy(library, tmp_path, monkeypatch):
    path = library.copy("wav", tmp_path, tagged=True)
    data = path.read_bytes()

    real = tagcommit._copy

    def ctrl_c_mid_copy(src, dst, interrupted):
        dst.write(src.read(1000))
        os.kill(os.getpid(), signal.SIGINT)  # as the terminal sends it
        real(src, dst, interrupted)

    monkeypatch.setattr(tagcommit, "_copy", ctrl_c_mid_copy)
    with pytest.raises(KeyboardInterrupt):
        tagcommit.commit(path, never)
    assert path.read_bytes() == data and leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_mid_edit_waits_until_the_edit_is_whole(library, tmp_path):
    path = library.copy("flac", tmp_path, tagged=True)
    seen = []

    def edit(target):
        os.kill(os.getpid(), signal.SIGINT)
        set_genre(target)
        seen.append("edited")

    with pytest.raises(KeyboardInterrupt):
        tagcommit.commit(path, edit, on_edited=lambda delta: seen.append("journaled"))
    assert seen == ["edited", "journaled"]
    assert FLAC(path)["GENRE"] == ["Jazz"] and leftovers(tmp_path) == []


# --- real limits: a file size limit (RLIMIT_FSIZE), a read-only mount ---

WRITE = """
import sys
from tagger import tags
from tagger.errors import TagError
try:
    tags.write_genres(sys.argv[1], ["Jazz"])
except TagError as e:
    print(e, file=sys.stderr)
    sys.exit(1)
"""


def test_a_write_past_a_file_size_limit_leaves_the_file_as_it_was(library, tmp_path):
    # An untagged WAV: the write appends an id3 chunk, so the file must grow.
    path = library.copy("wav", tmp_path)
    data, size = path.read_bytes(), path.stat().st_size
    no_backup = run_python(WRITE, path, max_file_bytes=size - 1)  # the backup cannot be made
    assert no_backup.returncode == 1
    assert no_backup.stderr == f"{path}: cannot create a backup beside it: File too large\n"
    no_growth = run_python(WRITE, path, max_file_bytes=size)  # the backup fits, the edit not
    assert no_growth.returncode == 1
    assert no_growth.stderr == f"{path}: could not write genres: [Errno 27] File too large\n"
    assert path.read_bytes() == data and leftovers(tmp_path) == []


def test_a_read_only_mount_is_refused_by_name(library, tmp_path):
    # CI runs as root: a bind mount of the folder, read-only, in a mount
    # namespace of the child's own.
    path = library.copy("flac", tmp_path, tagged=True)
    data = path.read_bytes()
    script = f'mount --bind -o ro "$1" "$1" && exec "$2" -c \'{WRITE}\' "$3"'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", tmp_path, sys.executable,
                           path], capture_output=True, text=True, timeout=120)
    if proc.returncode != 1 and "mount" in proc.stderr:
        pytest.skip(f"no read-only bind mount here: {proc.stderr.strip()}")
    assert proc.returncode == 1
    assert proc.stderr == f"{path}: the file system it is on is mounted read-only\n"
    assert path.read_bytes() == data and leftovers(tmp_path) == []
