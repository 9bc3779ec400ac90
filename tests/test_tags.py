"""tagger.tags on real files of every format, made by ffmpeg (see audiofiles.py)."""

from __future__ import annotations

import base64
import json
import os
import stat
import struct
import subprocess

import mutagen
import pytest
from mutagen.apev2 import APEv2
from mutagen.id3 import ID3, TCON
from mutagen.mp4 import MP4

from audiofiles import (ALL_FORMATS, EXISTING_TAGS, FORMATS, AudioLibrary,
                        decode, ffmpeg_exe, leftovers, make_audio)
import tagcorpus
from tagcorpus import CORPUS, build, dump, without_genres
from tagger import tags
from tagger.constants import AUDIO_EXTENSIONS
from tagger.errors import TagError

ID3_FORMATS = ("mp3", "wav", "aiff")


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    return AudioLibrary(tmp_path_factory.mktemp("originals"))


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


# --- odd layouts (tagcorpus.py): every genre field read, only genre fields written ---

CORPUS_GENRES = {
    "mp3-v23-legacy": ["Soundtrack", "Rock"],  # "(24)Soundtrack" + a 2nd TCON
    "mp3-v24-multi": ["Soundtrack", "Pop"],  # "24", "Pop"
    "mp3-v24-empty-genre": [],
    "mp3-v22": ["Rock"],  # TCO "(17)"
    "mp3-v1-only": ["Rock"],  # genre byte 17
    "mp3-ape-v1": ["Rock"],
    "wav-info-only": ["Rock"],  # RIFF INFO IGNR, no ID3: not untagged
    "wav-id3-and-info": ["Rock"],
    "wav-untagged": [],
    "aiff-v23": ["Rock"],
    "flac-numeric-picture": ["Rock"],  # genre=17 and an empty GENRE=
    "ogg-key-case": ["rock", "Pop"],
    "opus-empty": [],
    "m4a-gnre": ["Rock"],
    "m4a-two-genres": ["Rock", "Pop"],
    "m4a-moov-first": ["Rock"],
    "ogg-comment-pages": [],
    "wma-genre-id": ["Rock"],  # WM/Genre + WM/GenreID "(17)"
    "wv-binary-genre": [],  # a binary value is not a name
    "ape-external-genre": [],
    "mpc-multi-genre": ["Rock", "Pop"],
}


def test_corpus_table_is_complete():
    assert set(CORPUS_GENRES) == set(CORPUS)


@pytest.mark.parametrize("name", CORPUS)
def test_odd_layouts_read_and_write_only_the_genre_fields(tmp_path, name):
    path = build(name, tmp_path)
    assert tags.read_genres(path) == CORPUS_GENRES[name]
    before = dump(path)
    state = tags.read_state(path)
    assert json.loads(json.dumps(state)) == state

    tags.write_genres(path, ["Jazz"])

    assert without_genres(dump(path)) == without_genres(before)
    assert tags.read_genres(path) == ["Jazz"]
    tags.restore_state(path, state)
    assert dump(path) == before
    assert tags.read_state(path) == state


@pytest.mark.parametrize("name, major", [("mp3-v22", 2), ("mp3-v23-legacy", 3),
                                         ("mp3-v24-multi", 4)])
@pytest.mark.parametrize("id3v23", [False, True])
def test_id3_tag_keeps_its_version(tmp_path, name, major, id3v23):
    path = build(name, tmp_path)
    tags.write_genres(path, ["Jazz", "Blues"], id3v23=id3v23)
    assert path.read_bytes()[3] == major
    tcon = mutagen.File(path).tags["TCON"].text
    assert tcon == (["Jazz", "Blues"] if major == 4 else ["Jazz/Blues"])


def test_v23_legacy_frames_survive_byte_for_byte(tmp_path):
    path = build("mp3-v23-legacy", tmp_path)
    frames = {f for f in dump(path)["id3"]["frames"] if f[0] != "TCON"}
    tags.write_genres(path, ["Jazz"], id3v23=True)
    kept = {f for f in dump(path)["id3"]["frames"] if f[0] != "TCON"}
    assert kept == frames
    assert {"RVAD", "EQUA", "TRDA", "TSIZ", "RGAD", "NCON", "XSOP", "TYER", "TDAT",
            "TIME", "TORY", "IPLS", "GEOB", "CHAP", "CTOC"} <= {f[0] for f in kept}
    # Two TCON frames became one, in the first one's place.
    assert [f[0] for f in dump(path)["id3"]["frames"]].count("TCON") == 1


def test_geob_and_multi_value_tpe1_survive_id3v23(tmp_path):
    path = build("mp3-v24-multi", tmp_path)
    before = mutagen.File(path).tags
    tags.write_genres(path, ["Jazz"], id3v23=True)
    after = mutagen.File(path).tags
    assert after["TPE1"].text == ["A1", "A2"]
    [geob] = after.getall("GEOB")
    assert geob.data == before.getall("GEOB")[0].data == bytes(range(64))


def v1_block(path):
    return path.read_bytes()[-128:]


@pytest.mark.parametrize("genres, byte", [(["Jazz"], 8), (["Dream Pop"], 17),
                                          (["Dream Pop", "Blues"], 0)])
def test_id3v1_keeps_everything_but_its_genre_byte(tmp_path, genres, byte):
    path = build("mp3-ape-v1", tmp_path)
    v1 = v1_block(path)
    assert v1[-1] == 17
    tags.write_genres(path, genres)
    assert v1_block(path)[:-1] == v1[:-1]  # title, artist, album, year, comment, track
    assert v1_block(path)[-1] == byte  # a genre without an ID3v1 number leaves it


def test_other_genre_fields_are_read_and_kept_in_step(tmp_path):
    path = build("mp3-ape-v1", tmp_path)
    v1 = v1_block(path)
    path.write_bytes(path.read_bytes()[:-128])
    ape = APEv2(path)
    ape["Genre"] = "Metal"
    ape.save(path)
    path.write_bytes(path.read_bytes() + v1)
    assert tags.read_genres(path) == ["Rock", "Metal"]  # ID3 TCON, then APEv2

    tags.write_genres(path, ["Jazz"])
    assert str(APEv2(path)["Genre"]) == "Jazz"
    assert tags.read_genres(path) == ["Jazz"]
    assert v1_block(path)[:-1] == v1[:-1] and v1_block(path)[-1] == 8


def test_wav_info_genre_is_rewritten_and_the_riff_stays_valid(tmp_path):
    path = build("wav-info-only", tmp_path)
    audio = decode(path)
    tags.write_genres(path, ["Jazz", "Blues"])
    info = dict((k, v) for k, v in dump(path)["info"])
    assert base64.b64decode(info["IGNR"]) == b"Jazz; Blues\0"
    assert ffmpeg_metadata(path)["genre"].replace("\\", "") == "Jazz; Blues"
    assert len(path.read_bytes()) == dump(path)["size"] + 8
    assert decode(path) == audio


def test_wma_genre_id_is_removed_with_the_new_genre(tmp_path):
    path = build("wma-genre-id", tmp_path)
    tags.write_genres(path, ["Jazz"])
    audio = mutagen.File(path)
    assert [str(v) for v in audio.tags["WM/Genre"]] == ["Jazz"]
    assert "WM/GenreID" not in audio.tags


def test_restoring_a_state_of_another_family_is_refused(library, tmp_path):
    flac = library.copy("flac", tmp_path)
    state = tags.read_state(library.copy("mp3", tmp_path))
    with pytest.raises(TagError) as e:
        tags.restore_state(flac, state)
    assert "id3" in str(e.value)


def unsynchronise(data: bytes) -> bytes:
    out = bytearray()
    for i, b in enumerate(data):
        out.append(b)
        if b == 0xFF and (i + 1 == len(data) or data[i + 1] >= 0xE0 or data[i + 1] == 0):
            out.append(0)
    return bytes(out)


def test_unsynchronised_v23_tag_keeps_its_frames(library, tmp_path):
    path = library.copy("mp3", tmp_path)
    frames = [tagcorpus.frame(3, "TIT2", tagcorpus.text("Tïtle ☃", encoding=1)),
              tagcorpus.frame(3, "TCON", tagcorpus.text("Rock")),
              tagcorpus.frame(3, "PRIV", b"owner\0" + bytes([0xFF, 0xE0, 0xFF, 0x00]))]
    body = unsynchronise(b"".join(frames)) + bytes(32)
    tagcorpus.prepend(path, b"ID3\x03\x00\x80" + tagcorpus.synchsafe(len(body)) + body)
    before = mutagen.File(path).tags
    assert before["TIT2"].text == ["Tïtle ☃"]

    tags.write_genres(path, ["Jazz ☃"])

    after = mutagen.File(path).tags
    assert path.read_bytes()[3:6] == b"\x03\x00\x80"  # still v2.3, unsynchronised
    assert after["TCON"].text == ["Jazz ☃"]
    assert after["TIT2"] == before["TIT2"]
    assert after.getall("PRIV") == before.getall("PRIV")


def test_v24_tag_with_a_footer_gets_a_new_footer(library, tmp_path):
    path = library.copy("mp3", tmp_path)
    body = (tagcorpus.frame(4, "TIT2", tagcorpus.text("T", encoding=3))
            + tagcorpus.frame(4, "TCON", tagcorpus.text("Rock", encoding=3)))
    size = tagcorpus.synchsafe(len(body))
    tagcorpus.prepend(path, b"ID3\x04\x00\x10" + size + body + b"3DI\x04\x00\x10" + size)
    audio = decode(path)

    tags.write_genres(path, ["Jazz"])

    data = path.read_bytes()
    length = 10 + sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    assert data[length:length + 10] == b"3DI" + data[3:10]
    assert mutagen.File(path).tags["TCON"].text == ["Jazz"]
    assert decode(path) == audio


def ape_item(key: str, value: bytes, flags: int = 0) -> bytes:
    return struct.pack("<2I", len(value), flags) + key.encode() + b"\0" + value


def ape_tag(items: list[bytes]) -> bytes:
    body = b"".join(items)

    def block(flags):
        return b"APETAGEX" + struct.pack("<4I", 2000, len(body) + 32, len(items),
                                         flags) + bytes(8)
    return block(0xA0000000) + body + block(0x80000000)


def test_apev2_items_keep_their_order_and_flags(library, tmp_path):
    path = library.copy("wv", tmp_path)
    items = [ape_item("Title", b"A rather long title, longer than the rest"),
             ape_item("GENRE", b"Rock"),
             ape_item("Artist", b"A", flags=1)]  # read-only flag
    path.write_bytes(path.read_bytes() + ape_tag(items))
    state = tags.read_state(path)

    tags.write_genres(path, ["Jazz"])

    tail = path.read_bytes()[-(32 + len(b"".join(items)) + 32):]
    assert tail.startswith(b"APETAGEX")
    assert ape_item("Genre", b"Jazz") in tail
    assert tail.index(items[0]) < tail.index(ape_item("Genre", b"Jazz")) < tail.index(items[2])
    tags.restore_state(path, state)
    assert path.read_bytes().endswith(ape_tag(items))


@pytest.mark.parametrize("name", ["mp3", "flac", "ogg", "opus", "aac", "alac", "aiff", "wma", "wv"])
def test_read_album(tmp_path, name):
    from audiofiles import make_format

    tagged = make_format(tmp_path, name, "tagged", metadata={"album": " Quiet ", "genre": "Rock"})
    assert tags.read_album(tagged) == "Quiet"
    assert tags.read_album(make_format(tmp_path, name, "bare")) is None


def test_read_tags_length_is_declared_only_by_counts_not_estimates(tmp_path):
    from tagger.audio.decode import load_audio

    wav = make_audio(tmp_path / "a.wav", 2.0)
    got = tags.read_tags(wav)
    assert (got.length, got.length_declared) == (pytest.approx(2.0), True)
    assert tags.read_tags(make_audio(tmp_path / "a.mp3", 2.0)).length_declared  # LAME's Xing/Info frame count
    # An MP3 without a Xing header: mutagen guesses from size and first bitrate.
    bare = tmp_path / "bare.mp3"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(wav), "-c:a", "libmp3lame",
                    "-q:a", "2", "-write_xing", "0", str(bare)], check=True)
    assert tags.read_tags(bare).length_declared is False
    # A WAV whose data size a streaming writer never filled in (0xFFFFFFFF).
    streamed = tmp_path / "streamed.wav"
    data = bytearray(wav.read_bytes())
    at = data.index(b"data") + 4
    data[at: at + 4] = b"\xff\xff\xff\xff"
    streamed.write_bytes(bytes(data))
    assert tags.read_tags(streamed).length_declared is False
    assert abs(len(load_audio(streamed, 16_000)) / 16_000 - 2.0) < 0.05
