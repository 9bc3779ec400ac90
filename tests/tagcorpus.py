"""Odd-but-real tag layouts, built from generated audio, and a full tag dump.

Usage::

    from tagcorpus import CORPUS, build, dump, without_genres

    path = build("mp3-v23-legacy", tmp_path)  # a fresh file of that layout
    before = dump(path)                       # every tag, raw where possible

``CORPUS`` names each layout; ``build`` makes it with ffmpeg (audiofiles.py),
mutagen, and raw bytes for what mutagen will not write (ID3v2.2, unknown and
legacy v2.3 frames, duplicate and empty TCON frames, gnre atoms, chunks).
``dump`` is written independently of tagger: ID3 frames are split here, RIFF
and AIFF chunks walked here. ``without_genres(dump)`` drops every genre field
(and what a genre field's size moves), so two dumps that differ only in
genres compare equal.
"""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import mutagen
from mutagen.apev2 import APENoHeaderError, APEv2, APEValue, BINARY, EXTERNAL
from mutagen.asf import ASF
from mutagen.flac import FLAC, Picture
from mutagen.mp4 import MP4, MP4Cover

from audiofiles import add_existing_tags, ffmpeg_exe, make_format

# --- raw ID3v2 ---


def synchsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def frame(major: int, fid: str, data: bytes, flags: int = 0) -> bytes:
    if major == 2:
        return fid.encode() + len(data).to_bytes(3, "big") + data
    size = synchsafe(len(data)) if major == 4 else struct.pack(">L", len(data))
    return fid.encode() + size + struct.pack(">H", flags) + data


def text(*values: str, encoding: int = 0) -> bytes:
    codec = {0: "latin-1", 1: "utf-16", 3: "utf-8"}[encoding]
    if encoding == 1:
        return bytes([1]) + b"\0\0".join(v.encode(codec) for v in values)
    return bytes([encoding]) + b"\0".join(v.encode(codec) for v in values)


def id3(major: int, frames: list[bytes], padding: int = 64) -> bytes:
    body = b"".join(frames) + bytes(padding)
    return b"ID3" + bytes([major, 0, 0]) + synchsafe(len(body)) + body


def id3v1(title: str, genre: int) -> bytes:
    return (b"TAG" + title.encode().ljust(30, b"\0") + b"Artist".ljust(30, b"\0")
            + b"Album".ljust(30, b"\0") + b"1999" + b"comment".ljust(28, b"\0")
            + b"\0\x05" + bytes([genre]))


def geob_utf16(major: int) -> bytes:  # mime, UTF-16 filename and description
    data = (bytes([1]) + b"application/octet-stream\0" + "f.bin".encode("utf-16")
            + b"\0\0" + "déscription".encode("utf-16") + b"\0\0" + bytes(range(64)))
    return frame(major, "GEOB", data)


def chapters(major: int) -> list[bytes]:
    sub = frame(major, "TIT2", text("Chapter one"))
    chap = frame(major, "CHAP", b"ch1\0" + struct.pack(">LLLL", 0, 500, 0xFFFFFFFF,
                                                        0xFFFFFFFF) + sub)
    ctoc = frame(major, "CTOC", b"toc\0" + bytes([3, 1]) + b"ch1\0")
    return [chap, ctoc]


def apic(major: int) -> bytes:
    return frame(major, "APIC", b"\0image/png\0" + bytes([3]) + b"cover\0"
                 + b"\x89PNG" + bytes(100))


def prepend(path: Path, data: bytes) -> None:
    path.write_bytes(data + path.read_bytes())


def add_chunk(path: Path, cid: bytes, data: bytes) -> None:
    """Append a chunk to a RIFF (little-endian) or FORM (big-endian) file."""
    raw = bytearray(path.read_bytes())
    endian = "<" if raw[:4] == b"RIFF" else ">"
    raw += cid + struct.pack(endian + "I", len(data)) + data + bytes(len(data) % 2)
    raw[4:8] = struct.pack(endian + "I", len(raw) - 8)
    path.write_bytes(bytes(raw))


# --- the layouts ---

def _mp3_v23_legacy(folder):
    path = make_format(folder, "mp3", "v23-legacy")
    v = 3
    frames = [
        frame(v, "TIT2", text("Title")), frame(v, "TPE1", text("A1/A2")),
        frame(v, "TCON", text("(24)Soundtrack")), frame(v, "TYER", text("2001")),
        frame(v, "TDAT", text("0105")), frame(v, "TIME", text("1230")),
        frame(v, "TORY", text("1999")),
        frame(v, "IPLS", text("producer", "P. Person")),
        frame(v, "RVAD", bytes([3, 16]) + bytes(range(8))),
        frame(v, "EQUA", bytes([16]) + bytes(range(6))),
        frame(v, "TRDA", text("May 1st")), frame(v, "TSIZ", text("12345")),
        frame(v, "RGAD", bytes(range(8))), frame(v, "NCON", bytes(range(20))),
        frame(v, "XSOP", text("Sort Artist")), geob_utf16(v), apic(v),
        frame(v, "TCON", text("Rock")),  # a second, duplicate TCON
        *chapters(v),
    ]
    prepend(path, id3(3, frames))
    path.write_bytes(path.read_bytes() + id3v1("V1 Title", 24))
    return path


def _mp3_v24_multi(folder):
    path = make_format(folder, "mp3", "v24-multi")
    v = 4
    frames = [frame(v, "TIT2", text("Title", encoding=3)),
              frame(v, "TPE1", text("A1", "A2", encoding=3)),
              frame(v, "TCON", text("24", "Pop", encoding=3)),
              frame(v, "TDRC", text("2001-05-01", encoding=3)),
              frame(v, "RVA2", b"track\0" + bytes([1]) + bytes(3)),
              frame(v, "XABC", bytes(range(12))),  # unknown
              geob_utf16(v), apic(v), *chapters(v)]
    prepend(path, id3(4, frames))
    return path


def _mp3_v24_empty_genre(folder):
    path = make_format(folder, "mp3", "v24-empty")
    frames = [frame(4, "TIT2", text("Title", encoding=3)),
              frame(4, "TCON", bytes([3]))]  # an empty TCON
    prepend(path, id3(4, frames))
    return path


def _mp3_v22(folder):
    path = make_format(folder, "mp3", "v22")
    v = 2
    frames = [frame(v, "TT2", text("Title")), frame(v, "TP1", text("Artist")),
              frame(v, "TCO", text("(17)")), frame(v, "RVA", bytes([3, 16]) + bytes(8)),
              frame(v, "PIC", b"\0PNG\x03cover\0" + b"\x89PNG" + bytes(50)),
              frame(v, "ZZZ", bytes(range(10)))]  # unknown
    prepend(path, id3(2, frames))
    return path


def _mp3_v1_only(folder):
    path = make_format(folder, "mp3", "v1-only")
    path.write_bytes(path.read_bytes() + id3v1("Only V1", 17))
    return path


def _mp3_ape_v1(folder):
    path = make_format(folder, "mp3", "ape-v1")
    prepend(path, id3(3, [frame(3, "TIT2", text("Title")),
                          frame(3, "TCON", text("Rock"))]))
    ape = APEv2()
    ape["Title"] = "Ape Title"
    ape["Genre"] = "Rock"
    ape.save(path)
    path.write_bytes(path.read_bytes() + id3v1("V1", 17))
    return path


def _wav_info_only(folder):
    return make_format(folder, "wav", "info-only",
                       metadata={"genre": "Rock", "title": "Info Title"})


def _wav_id3_and_info(folder):
    path = make_format(folder, "wav", "id3-info", metadata={"genre": "Rock",
                                                            "artist": "Someone"})
    add_chunk(path, b"id3 ", id3(3, [frame(3, "TIT2", text("Title")),
                                     frame(3, "TCON", text("Rock")),
                                     frame(3, "RVAD", bytes([3, 16]) + bytes(8))]))
    return path


def _wav_untagged(folder):
    return make_format(folder, "wav", "untagged")


def _aiff_v23(folder):
    path = make_format(folder, "aiff", "v23")
    add_chunk(path, b"ID3 ", id3(3, [frame(3, "TIT2", text("Title")),
                                     frame(3, "TCON", text("(17)")),
                                     frame(3, "TYER", text("2001")),
                                     frame(3, "TSIZ", text("1"))]))
    return path


def _set_comments(path, comments, padding=None):
    audio = mutagen.File(path)
    audio.tags[:] = comments
    audio.save(**({} if padding is None else {"padding": lambda info: padding}))


def _flac_numeric_picture(folder):
    path = make_format(folder, "flac", "numeric")
    audio = FLAC(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags[:] = [("TITLE", "T"), ("genre", "17"), ("ARTIST", "A"), ("GENRE", "")]
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/png", b"\x89PNG" + bytes(40)
    audio.add_picture(picture)
    audio.save()
    return path


def _ogg_key_case(folder):
    path = make_format(folder, "ogg", "case")
    _set_comments(path, [("genre", "rock"), ("TITLE", "t"), ("Genre", "Pop")])
    return path


def _opus_empty(folder):
    path = make_format(folder, "opus", "empty")
    _set_comments(path, [("TITLE", "t"), ("GENRE", "")])
    return path


def _m4a_gnre(folder):
    path = make_format(folder, "aac", "gnre", metadata={"title": "T"})
    audio = MP4(path)
    audio.tags["covr"] = [MP4Cover(b"\x89PNG" + bytes(40), MP4Cover.FORMAT_PNG)]
    audio.tags["\xa9gen"] = ["ZZ"]
    audio.save()
    # Swap the two-character text genre for a gnre atom of the same size.
    text_atom = (b"\xa9gen" + struct.pack(">I", 18) + b"data"
                 + struct.pack(">II", 1, 0) + b"ZZ")
    gnre = (b"gnre" + struct.pack(">I", 18) + b"data"
            + struct.pack(">II", 0, 0) + struct.pack(">H", 18))  # 17 + 1: Rock
    data = path.read_bytes()
    assert data.count(text_atom) == 1
    path.write_bytes(data.replace(text_atom, gnre))
    return path


def _m4a_moov_first(folder):
    """ffmpeg puts the moov atom after the audio (mdat); "faststart" moves it before."""
    path = make_format(folder, "aac", "moov-last", metadata={"title": "T", "genre": "Rock"})
    first = path.with_name("moov-first.m4a")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-c", "copy",
                    "-map_metadata", "0", "-movflags", "+faststart", str(first)], check=True)
    path.unlink()
    return first


def _ogg_pages(path) -> int:
    return path.read_bytes().count(b"OggS")


def _ogg_comment_pages(folder):
    """A comment header over many pages, so full that a longer genre adds a
    page and every later page is renumbered."""
    for size in range(100_000, 110_000, 50):
        path = make_format(folder, "ogg", "pages")
        _set_comments(path, [("TITLE", "t"), ("COMMENT", "x" * size)], padding=0)
        probe = path.with_name("probe.ogg")
        probe.write_bytes(path.read_bytes())
        _set_comments(probe, [("TITLE", "t"), ("COMMENT", "x" * size),
                              ("GENRE", "Jazz"), ("GENRE", "Blues")], padding=0)
        grows = _ogg_pages(probe) > _ogg_pages(path)
        probe.unlink()
        if grows:
            return path
    raise AssertionError("no comment size fills an Ogg page")


def _m4a_two_genres(folder):
    path = make_format(folder, "alac", "two", metadata={"title": "T"})
    audio = MP4(path)
    audio.tags["\xa9gen"] = ["Rock", "Pop"]
    audio.save()
    return path


def _wma_genre_id(folder):
    path = make_format(folder, "wma", "genreid", metadata={"title": "T"})
    audio = ASF(path)
    audio.tags["WM/Genre"] = ["Rock"]
    audio.tags["WM/GenreID"] = ["(17)"]
    audio.save()
    return path


def _ape_kind(name, kind, value):
    def build(folder):
        path = make_format(folder, name, f"{name}-kind")
        add_existing_tags(path, {"title": "Keep", "genre": "x"})
        ape = APEv2(path)
        del ape["Genre"]
        ape["genre"] = APEValue(value, kind)  # the key's case is the file's
        ape.save(path)
        return path
    return build


CORPUS = {
    "mp3-v23-legacy": _mp3_v23_legacy,
    "mp3-v24-multi": _mp3_v24_multi,
    "mp3-v24-empty-genre": _mp3_v24_empty_genre,
    "mp3-v22": _mp3_v22,
    "mp3-v1-only": _mp3_v1_only,
    "mp3-ape-v1": _mp3_ape_v1,
    "wav-info-only": _wav_info_only,
    "wav-id3-and-info": _wav_id3_and_info,
    "wav-untagged": _wav_untagged,
    "aiff-v23": _aiff_v23,
    "flac-numeric-picture": _flac_numeric_picture,
    "ogg-key-case": _ogg_key_case,
    "opus-empty": _opus_empty,
    "m4a-gnre": _m4a_gnre,
    "m4a-two-genres": _m4a_two_genres,
    "m4a-moov-first": _m4a_moov_first,
    "ogg-comment-pages": _ogg_comment_pages,
    "wma-genre-id": _wma_genre_id,
    "wv-binary-genre": _ape_kind("wv", BINARY, b"\x00\x01binary"),
    "ape-external-genre": _ape_kind("ape", EXTERNAL, "http://example.org/g"),
    "mpc-multi-genre": _ape_kind("mpc", 0, "Rock\0Pop"),
}


def build(name: str, folder) -> Path:
    """A new file of layout ``name`` in ``folder``."""
    folder = Path(folder) / name
    folder.mkdir(parents=True, exist_ok=True)
    return CORPUS[name](folder)


# --- the dump ---

def _b(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def dump_id3(data: bytes | None) -> dict | None:
    """Version and every frame (id, raw bytes) of an ID3v2 tag; padding left out."""
    if data is None or data[:3] != b"ID3":
        return None
    major = data[3]
    size = sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    body, frames, pos = data[10:10 + size], [], 0
    head = 6 if major == 2 else 10
    while pos + head <= len(body) and body[pos] != 0:
        if major == 2:
            fid, n = body[pos:pos + 3], int.from_bytes(body[pos + 3:pos + 6], "big")
        elif major == 3:
            fid, n = body[pos:pos + 4], struct.unpack(">L", body[pos + 4:pos + 8])[0]
        else:
            fid = body[pos:pos + 4]
            n = sum(b << (7 * (3 - i)) for i, b in enumerate(body[pos + 4:pos + 8]))
        frames.append((fid.decode(), _b(body[pos:pos + head + n])))
        pos += head + n
    return {"version": list(data[3:5]), "frames": frames}


def _chunks(data: bytes, endian: str, start: int, end: int) -> list[tuple]:
    out, pos = [], start
    while pos + 8 <= end:
        cid = data[pos:pos + 4]
        size = struct.unpack(endian + "I", data[pos + 4:pos + 8])[0]
        payload = data[pos + 8:pos + 8 + size]
        out.append((cid.decode("latin-1"), size, payload))
        pos += 8 + size + size % 2
    return out


def _ape(path) -> list | None:
    """APE items in file order: key, kind, value bytes; the tag's version."""
    try:
        ape = APEv2(path)
    except APENoHeaderError:
        return None
    data = Path(path).read_bytes()
    footer = data.rfind(b"APETAGEX")
    version = struct.unpack("<I", data[footer + 8:footer + 12])[0]
    return [version] + [[k, v.kind, _b(bytes(v))] for k, v in ape.items()]


def dump(path) -> dict:
    """Every tag of a file: frames/keys/atoms/chunks with raw bytes where possible."""
    path = Path(path)
    data = path.read_bytes()
    suffix = path.suffix.lower()
    out: dict = {}
    if suffix == ".mp3":
        out["id3"] = dump_id3(data)
        out["id3v1"] = _b(data[-128:]) if data[-128:-125] == b"TAG" else None
        out["ape"] = _ape(path)
    elif suffix in (".wav", ".aiff"):
        endian = "<" if suffix == ".wav" else ">"
        chunks = _chunks(data, endian, 12, 8 + struct.unpack(endian + "I", data[4:8])[0])
        out["size"] = struct.unpack(endian + "I", data[4:8])[0]
        out["chunks"] = [(cid, size) for cid, size, _ in chunks]
        out["id3"] = next((dump_id3(p) for cid, _, p in chunks
                           if cid.strip().upper() == "ID3"), None)
        out["info"] = [(cid, _b(p)) for c, _, body in chunks
                       if c == "LIST" and body[:4] == b"INFO"
                       for cid, _, p in _chunks(body, endian, 4, len(body))]
    elif suffix in (".flac", ".ogg", ".opus"):
        audio = mutagen.File(path)
        out["comments"] = [list(c) for c in (audio.tags or [])]
        if suffix == ".flac":
            out["pictures"] = [_b(p.write()) for p in audio.pictures]
    elif suffix == ".m4a":
        audio = mutagen.File(path)
        atoms = mutagen.mp4.Atoms(open(path, "rb"))
        with open(path, "rb") as f:
            try:
                ilst = atoms.path(b"moov", b"udta", b"meta", b"ilst")[-1]
                out["ilst"] = [(a.name.decode("latin-1"), _b(a.read(f)[1]))
                               for a in ilst.children]
            except KeyError:
                out["ilst"] = []
        out["chapters"] = repr(audio.chapters and list(audio.chapters))
    elif suffix == ".wma":
        audio = mutagen.File(path)
        out["attributes"] = [(k, v.TYPE, repr(v.value), v.language, v.stream)
                             for k, v in audio.tags]
    elif suffix in (".wv", ".ape", ".mpc"):
        out["ape"] = _ape(path)
    return out


_GENRE_FRAMES = {"TCON", "TCO"}
_GENRE_KEYS = {"genre", "\xa9gen", "gnre", "wm/genre", "wm/genreid"}


def without_genres(d: dict) -> dict:
    """The dump with every genre field removed (and the sizes they move)."""
    d = dict(d)
    if d.get("id3"):
        frames = [f for f in d["id3"]["frames"] if f[0] not in _GENRE_FRAMES]
        d["id3"] = {**d["id3"], "frames": frames} if frames else None
    if d.get("id3v1"):
        d["id3v1"] = d["id3v1"] and _b(base64.b64decode(d["id3v1"])[:-1])
    if d.get("ape"):
        d["ape"] = [e for e in d["ape"] if not isinstance(e, list) or e[0].lower() != "genre"]
    if "chunks" in d:
        d["size"] = None
        d["chunks"] = [(c, None if c.strip().upper() == "LIST" else s)
                       for c, s in d["chunks"] if c.strip().upper() != "ID3"]
        d["info"] = [i for i in d["info"] if i[0] != "IGNR"]
    for key in ("comments", "ilst", "attributes"):
        if key in d:
            d[key] = [e for e in d[key] if str(e[0]).lower() not in _GENRE_KEYS]
    return d
