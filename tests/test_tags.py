"""tagger.tags on real files of every format, made by ffmpeg (see audiofiles.py)."""

from __future__ import annotations

import os
import stat
import struct
import subprocess

import mutagen
import pytest
from mutagen.id3 import ID3, TCON
from mutagen.mp4 import MP4

from audiofiles import (ALL_FORMATS, EXISTING_TAGS, FORMATS, AudioLibrary,
                        decode, ffmpeg_exe, make_audio)
from tagger import tags
from tagger.constants import AUDIO_EXTENSIONS, BACKUP_MARKER, TEMP_MARKER
from tagger.errors import TagError

ID3_FORMATS = ("mp3", "wav", "aiff")


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    return AudioLibrary(tmp_path_factory.mktemp("originals"))


def leftovers(folder):
    return [p.name for p in folder.iterdir()
            if TEMP_MARKER in p.name or BACKUP_MARKER in p.name]


# Written out here, not taken from tagger's table, so the test checks the table.
RAW_KEYS = {  # suffix -> (genre key, title key)
    ".mp3": ("TCON", "TIT2"), ".wav": ("TCON", "TIT2"), ".aiff": ("TCON", "TIT2"),
    ".flac": ("GENRE", "TITLE"), ".ogg": ("GENRE", "TITLE"),
    ".opus": ("GENRE", "TITLE"), ".m4a": ("\xa9gen", "\xa9nam"),
    ".wma": ("WM/Genre", "Title"), ".wv": ("Genre", "Title"),
    ".ape": ("Genre", "Title"), ".mpc": ("Genre", "Title"),
}


def raw_values(path, which=0):
    """A tag's values as stored, read with mutagen directly (not tagger);
    None when absent. ``which``: 0 genre, 1 title."""
    audio = mutagen.File(path)
    key = RAW_KEYS[path.suffix][which]
    if audio is None or audio.tags is None or key not in audio.tags:
        return None
    value = audio.tags[key]
    if key in ("TCON", "TIT2"):
        return list(value.text)
    if path.suffix in (".wv", ".ape", ".mpc"):  # APEv2: values split by NUL
        return str(value).split("\0")
    if path.suffix == ".wma" and key == "Title":  # ASF content description
        return [str(value[0])]
    return [str(v) for v in value]


def raw_genre_values(path):
    return raw_values(path, 0)


def title_of(path):
    values = raw_values(path, 1)
    return values[0] if values else None


def ffmpeg_metadata(path):
    """Format-level tags as ffmpeg (another reader) sees them, keys lower-cased."""
    out = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path),
                          "-f", "ffmetadata", "pipe:1"],
                         check=True, capture_output=True, text=True).stdout
    meta = {}
    for line in out.splitlines():
        if "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            meta[key.lower()] = value
    return meta


def test_table_covers_every_taggable_extension():
    assert set(tags.GENRE_FIELDS) == AUDIO_EXTENSIONS - {"aac"}
    for ext in AUDIO_EXTENSIONS - {"aac"}:
        assert tags.supports(f"x/Song.{ext.upper()}")
    assert not tags.supports("song.aac")  # raw ADTS has no writable tag block
    assert not tags.supports("notes.txt")


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_file_without_tags_gets_a_tag_block_and_multi_values(library, tmp_path, name):
    path = library.copy(name, tmp_path)
    assert tags.read_genres(path) == []

    tags.write_genres(path, ["Hip-Hop", "Jazz"])

    assert tags.read_genres(path) == ["Hip-Hop", "Jazz"]
    # Stored as two real values, not one joined string.
    assert raw_genre_values(path) == ["Hip-Hop", "Jazz"]
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_existing_tags_read_replaced_and_other_tags_kept(library, tmp_path, name):
    path = library.copy(name, tmp_path, tagged=True)
    assert tags.read_genres(path) == ["Rock"]

    tags.write_genres(path, ["Jazz"])
    assert tags.read_genres(path) == ["Jazz"]
    assert title_of(path) == EXISTING_TAGS["title"]

    tags.write_genres(path, [])  # an empty list removes the field
    assert tags.read_genres(path) == []
    assert raw_genre_values(path) is None
    assert title_of(path) == EXISTING_TAGS["title"]


@pytest.mark.parametrize("name", FORMATS)
def test_writing_never_changes_decoded_audio(library, tmp_path, name):
    original = library.original(name, tagged=True)
    path = library.copy(name, tmp_path, tagged=True)
    before = decode(original)
    assert len(before) > 0

    tags.write_genres(path, ["Hip-Hop", "Jazz"])
    assert decode(path) == before
    tags.write_genres(path, ["Rock"], id3v23=True)
    assert decode(path) == before
    tags.write_genres(path, [])
    assert decode(path) == before


@pytest.mark.parametrize("name", ["ape", "mpc"])
def test_apev2_stub_keeps_every_original_byte(library, tmp_path, name):
    # No decoder for these stubs: the APEv2 tag is appended, so the original
    # bytes (header + stand-in audio) must stay the file's prefix.
    original = library.original(name).read_bytes()
    path = library.copy(name, tmp_path)
    tags.write_genres(path, ["Hip-Hop", "Jazz"])
    assert path.read_bytes().startswith(original)
    tags.write_genres(path, [])
    assert path.read_bytes().startswith(original)


@pytest.mark.parametrize("name", ["mp3", "flac", "aac", "alac", "aiff", "wav",
                                  "wma", "wv"])
def test_another_reader_sees_the_genre(library, tmp_path, name):
    path = library.copy(name, tmp_path)
    tags.write_genres(path, ["Hip-Hop"])
    assert ffmpeg_metadata(path)["genre"] == "Hip-Hop"


@pytest.mark.parametrize("name", ID3_FORMATS)
def test_id3v24_by_default_stores_separate_values(library, tmp_path, name):
    path = library.copy(name, tmp_path)
    tags.write_genres(path, ["Hip-Hop", "Jazz"])
    id3 = mutagen.File(path).tags
    assert id3.version[:2] == (2, 4)
    assert id3["TCON"].text == ["Hip-Hop", "Jazz"]


@pytest.mark.parametrize("name", ID3_FORMATS)
def test_id3v23_joins_with_slash_and_reads_back_as_a_list(library, tmp_path, name):
    path = library.copy(name, tmp_path)
    tags.write_genres(path, ["Hip-Hop", "Jazz"], id3v23=True)
    id3 = mutagen.File(path).tags
    assert id3.version[:2] == (2, 3)
    assert id3["TCON"].text == ["Hip-Hop/Jazz"]
    assert tags.read_genres(path) == ["Hip-Hop", "Jazz"]


def test_id3v23_keeps_id3v1_names_that_contain_a_slash(library, tmp_path):
    path = library.copy("mp3", tmp_path)
    tags.write_genres(path, ["Jazz", "Pop/Funk", "Rock"], id3v23=True)
    assert mutagen.File(path).tags["TCON"].text == ["Jazz/Pop/Funk/Rock"]
    assert tags.read_genres(path) == ["Jazz", "Pop/Funk", "Rock"]


@pytest.mark.parametrize("stored", ["(17)", "17", "(17)Rock"])
def test_numeric_id3v1_genre_reads_as_its_name_in_id3(library, tmp_path, stored):
    path = library.copy("mp3", tmp_path)
    id3 = ID3()
    id3.add(TCON(encoding=0, text=[stored]))
    id3.save(path, v2_version=3)
    assert tags.read_genres(path) == ["Rock"]


def test_id3v1_only_mp3_is_read_and_kept_in_step(library, tmp_path):
    path = library.copy("mp3", tmp_path)
    id3v1 = (b"TAG" + b"Old".ljust(30, b"\0") + bytes(30) + bytes(30) + b"2001"
             + bytes(30) + bytes([17]))  # genre byte 17: Rock
    path.write_bytes(path.read_bytes() + id3v1)
    before = decode(path)
    assert tags.read_genres(path) == ["Rock"]

    tags.write_genres(path, ["Jazz"])

    data = path.read_bytes()
    assert data.startswith(b"ID3") and data[-128:-125] == b"TAG"
    assert data[-1] == 8  # mutagen updates an existing ID3v1 genre: Jazz
    assert tags.read_genres(path) == ["Jazz"]
    assert decode(path) == before


@pytest.mark.parametrize("stored, expected", [
    ("(17)", ["Rock"]), ("17", ["Rock"]), ("0", ["Blues"]),
    ("(999)", ["(999)"]), ("Rock 17", ["Rock 17"])])
def test_numeric_id3v1_genre_reads_as_its_name_in_vorbis(library, tmp_path,
                                                         stored, expected):
    path = library.copy("flac", tmp_path)
    audio = mutagen.File(path)
    audio["GENRE"] = [stored]
    audio.save()
    assert tags.read_genres(path) == expected


def with_gnre_atom(path, id3v1_number):
    """Give an M4A a numeric ``gnre`` atom, as old iTunes wrote it.

    mutagen never writes gnre, so write a two-character ``\\xa9gen`` and swap
    it in place for a gnre atom of the same size (no offsets move).
    """
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags["\xa9gen"] = ["ZZ"]
    audio.save()
    text = (b"\xa9gen" + struct.pack(">I", 18) + b"data"
            + struct.pack(">II", 1, 0) + b"ZZ")
    gnre = (b"gnre" + struct.pack(">I", 18) + b"data"
            + struct.pack(">II", 0, 0) + struct.pack(">H", id3v1_number + 1))
    data = path.read_bytes()
    assert data.count(text) == 1
    path.write_bytes(data.replace(text, gnre))


@pytest.mark.parametrize("name", ["aac", "alac"])
def test_gnre_atom_is_read_and_replaced_by_the_text_genre(library, tmp_path, name):
    path = library.copy(name, tmp_path, tagged=True)
    with_gnre_atom(path, 17)
    assert b"gnre" in path.read_bytes()
    assert tags.read_genres(path) == ["Rock"]

    tags.write_genres(path, ["Jazz"])

    assert b"gnre" not in path.read_bytes()  # no second, conflicting genre
    assert tags.read_genres(path) == ["Jazz"]
    assert title_of(path) == EXISTING_TAGS["title"]


def test_unsupported_format_raises_and_leaves_the_file_alone(tmp_path):
    path = make_audio(tmp_path / "raw.aac", codec="aac")  # ADTS stream
    data = path.read_bytes()
    with pytest.raises(TagError) as e:
        tags.write_genres(path, ["Rock"])
    assert str(e.value) == (f"{path}: unsupported format '.aac': no genre field "
                            "tagger can write")
    with pytest.raises(TagError):
        tags.read_genres(path)
    assert path.read_bytes() == data
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".m4a", ".ogg", ".wv"])
def test_unreadable_file_raises_and_is_untouched(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"this is not audio" * 100)
    with pytest.raises(TagError) as e:
        tags.read_genres(path)
    assert str(e.value).startswith(f"{path}: cannot read tags")
    with pytest.raises(TagError):
        tags.write_genres(path, ["Rock"])
    assert path.read_bytes() == b"this is not audio" * 100
    assert leftovers(tmp_path) == []


def test_missing_file_raises(tmp_path):
    with pytest.raises(TagError) as e:
        tags.read_genres(tmp_path / "gone.mp3")
    assert str(e.value) == f"{tmp_path / 'gone.mp3'}: file not found"


def test_read_only_file_raises_and_the_batch_goes_on(library, tmp_path):
    locked = library.copy("flac", tmp_path, tagged=True, stem="locked")
    other = library.copy("flac", tmp_path, tagged=True, stem="other")
    locked.chmod(0o444)
    data = locked.read_bytes()

    failed = {}
    for path in (locked, other):
        try:
            tags.write_genres(path, ["Jazz"])
        except TagError as e:
            failed[path] = str(e)

    assert failed == {locked: f"{locked}: file is read-only"}
    assert locked.read_bytes() == data
    assert stat.S_IMODE(locked.stat().st_mode) == 0o444
    assert tags.read_genres(other) == ["Jazz"]
    assert leftovers(tmp_path) == []


def test_permission_bits_are_kept(library, tmp_path):
    path = library.copy("mp3", tmp_path)
    path.chmod(0o640)
    tags.write_genres(path, ["Jazz"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def _posix_acl(uid: int) -> bytes:
    """A POSIX access ACL as Linux stores it in ``system.posix_acl_access``:
    owner rw, user ``uid`` rw, group r, mask rw, other r."""
    undefined = 0xFFFFFFFF
    entries = [(0x01, 6, undefined), (0x02, 6, uid), (0x04, 4, undefined),
               (0x10, 6, undefined), (0x20, 4, undefined)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_write_keeps_the_files_identity_links_xattrs_and_acl(library, tmp_path, fmt):
    path = library.copy(fmt, tmp_path, tagged=True)
    link = tmp_path / "seeding" / path.name
    link.parent.mkdir()
    os.link(path, link)
    os.setxattr(path, "user.origin", b"bandcamp")
    acl = _posix_acl(1000)
    os.setxattr(path, "system.posix_acl_access", acl)
    os.chown(path, 1000, 1000)
    before = path.stat()

    tags.write_genres(path, ["Jazz"])

    after = path.stat()
    assert (after.st_ino, after.st_nlink) == (before.st_ino, 2)
    assert (after.st_uid, after.st_gid, after.st_mode) == (
        before.st_uid, before.st_gid, before.st_mode)
    assert tags.read_genres(link) == tags.read_genres(path) == ["Jazz"]
    assert os.getxattr(path, "user.origin") == b"bandcamp"
    assert os.getxattr(path, "system.posix_acl_access") == acl
    assert leftovers(tmp_path) == []


def test_the_edit_is_in_place_after_a_synced_backup_is_reported(library, tmp_path,
                                                                monkeypatch):
    path = library.copy("flac", tmp_path, tagged=True)
    original = path.read_bytes()
    seen = []
    real_edit = tags._tag_copy

    def edit(target, *args):
        [backup] = [p for p in tmp_path.iterdir() if BACKUP_MARKER in p.name]
        seen.append(("edit", target, backup.read_bytes() == original))
        real_edit(target, *args)

    monkeypatch.setattr(tags, "_tag_copy", edit)
    tags.write_genres(path, ["Jazz"], on_backup=lambda b: seen.append(("backup", b)))

    assert [step[0] for step in seen] == ["backup", "edit"]
    (_, backup), (_, target, whole) = seen
    assert backup.parent == tmp_path and backup.name.startswith(f".{path.name}{BACKUP_MARKER}")
    assert target == path and whole
    assert not backup.exists() and leftovers(tmp_path) == []


def test_a_failed_edit_is_rolled_back_from_the_backup(library, tmp_path, monkeypatch):
    path = library.copy("flac", tmp_path, tagged=True)
    data, before = path.read_bytes(), path.stat()

    def half_done(target, *args):  # the edit breaks the file, then fails
        with open(target, "r+b") as f:
            f.truncate(before.st_size // 2)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tags, "_tag_copy", half_done)
    with pytest.raises(TagError) as e:
        tags.write_genres(path, ["Jazz"])
    assert str(e.value) == (f"{path}: could not write genres: "
                            "[Errno 28] No space left on device")
    assert path.read_bytes() == data
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert leftovers(tmp_path) == []


def test_a_failing_journal_leaves_the_file_untouched(library, tmp_path):
    path = library.copy("mp3", tmp_path, tagged=True)
    data = path.read_bytes()

    def journal_full(backup):
        raise TagError("write journal: database or disk is full", path)

    with pytest.raises(TagError, match="disk is full"):
        tags.write_genres(path, ["Jazz"], on_backup=journal_full)
    assert path.read_bytes() == data
    assert leftovers(tmp_path) == []


def test_restore_backup_puts_the_old_bytes_back_into_the_same_file(library, tmp_path):
    path = library.copy("ogg", tmp_path, tagged=True)
    link = tmp_path / "link.ogg"
    os.link(path, link)
    data = path.read_bytes()
    backup = tags._make_backup(path, path)
    with open(path, "r+b") as f:  # a kill caught the edit half-way
        f.truncate(len(data) // 3)

    tags.restore_backup(backup, path)

    assert path.read_bytes() == link.read_bytes() == data
    assert path.stat().st_nlink == 2
    assert leftovers(tmp_path) == []


def test_restore_backup_of_a_file_gone_since_brings_it_back(library, tmp_path):
    path = library.copy("ogg", tmp_path, tagged=True)
    data = path.read_bytes()
    backup = tags._make_backup(path, path)
    path.unlink()
    tags.restore_backup(backup, path)
    assert path.read_bytes() == data and leftovers(tmp_path) == []


def test_a_read_only_folder_is_refused_even_as_root(library, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = library.copy("mp3", folder, tagged=True)
    data = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(TagError) as e:
            tags.write_genres(path, ["Jazz"])
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

    monkeypatch.setattr(tags.shutil, "copyfileobj", full)
    with pytest.raises(TagError) as e:
        tags.write_genres(path, ["Jazz"])
    assert str(e.value) == f"{path}: cannot create a backup beside it: No space left on device"
    assert path.read_bytes() == data and leftovers(tmp_path) == []


def test_symlink_is_followed_and_stays_a_link(library, tmp_path):
    target = library.copy("flac", tmp_path / "real")
    link = tmp_path / "link.flac"
    link.symlink_to(target)
    tags.write_genres(link, ["Jazz"])
    assert link.is_symlink()
    assert tags.read_genres(target) == ["Jazz"]


def test_values_are_stripped_and_empty_ones_dropped(library, tmp_path):
    path = library.copy("ogg", tmp_path)
    tags.write_genres(path, ["  Jazz ", "", "   "])
    assert tags.read_genres(path) == ["Jazz"]


def test_a_bare_string_is_a_type_error(library, tmp_path):
    path = library.copy("ogg", tmp_path)
    with pytest.raises(TypeError):
        tags.write_genres(path, "Jazz")


def test_remove_stale_temps(tmp_path):
    nested = tmp_path / "Artist" / "Album"
    nested.mkdir(parents=True)
    stale = [tmp_path / f".a.mp3{TEMP_MARKER}x1y2",
             nested / f".b.flac{TEMP_MARKER}abcd"]
    kept = [tmp_path / "a.mp3", nested / "b.flac", nested / ".hidden",
            nested / f"visible{TEMP_MARKER}1"]  # not ours: temps are hidden
    for p in stale + kept:
        p.write_bytes(b"x")

    assert tags.remove_stale_temps(tmp_path) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert tags.remove_stale_temps(tmp_path) == []


def test_remove_stale_temps_keeps_a_backup_recovery_needs(tmp_path):
    untouched = tmp_path / "a.mp3"  # killed before the edit began
    edited = tmp_path / "b.mp3"  # killed mid-edit: only the backup is whole
    for p in (untouched, edited):
        p.write_bytes(b"old tags, audio")
    unneeded = tmp_path / f".a.mp3{BACKUP_MARKER}1234"
    needed = tmp_path / f".b.mp3{BACKUP_MARKER}5678"
    orphan = tmp_path / f".c.mp3{BACKUP_MARKER}9abc"  # its file is gone
    for p in (unneeded, needed, orphan):
        p.write_bytes(b"old tags, audio")
    edited.write_bytes(b"new ta")

    assert tags.remove_stale_temps(tmp_path) == [unneeded]
    assert needed.read_bytes() == orphan.read_bytes() == b"old tags, audio"
