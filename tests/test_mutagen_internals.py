"""tagger.tags._mutagen: each private or undocumented mutagen name tagger
uses still exists and still does what tagger relies on. A mutagen release
that moves or changes one fails here, by name."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from mutagen.apev2 import APEv2
from mutagen.mp4 import MP4

from audiofiles import make_audio
from tagger.tags import _mutagen as M

TAGGER = Path(__file__).resolve().parent.parent / "tagger"


def test_invalid_chunk_and_riff_file_read_a_wav_and_refuse_other_bytes(tmp_path):
    wav = make_audio(tmp_path / "a.wav", 0.5)
    with open(wav, "rb") as f:
        riff = M.RiffFile(f)
        assert [c.id for c in riff.root.subchunks()][:2] == ["fmt", "data"]  # ids stripped
    with pytest.raises(M.InvalidChunk):
        M.RiffFile(io.BytesIO(b"not a riff file at all"))


def test_aiff_file_reads_an_aiff(tmp_path):
    aiff = make_audio(tmp_path / "a.aiff", 0.5)
    with open(aiff, "rb") as f:
        assert "COMM" in [c.id for c in M.AIFFFile(f).root.subchunks()]


def test_resize_bytes_and_delete_bytes_edit_a_file_in_place(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    with open(path, "r+b") as f:
        M.resize_bytes(f, 2, 5, 3)  # bytes 3-4 become a 5-byte region
        f.seek(3)
        f.write(b"ABCDE")
    assert path.read_bytes() == b"012ABCDE56789"
    with open(path, "r+b") as f:
        M.delete_bytes(f, 5, 3)
    assert path.read_bytes() == b"01256789"


def test_apev2_data_finds_an_ape_tag_and_its_items(tmp_path):
    path = make_audio(tmp_path / "a.wv", 0.5)
    tag = APEv2()
    tag["Genre"], tag["Album"] = "Jazz", "Quiet"
    tag.save(path)
    with open(path, "rb") as f:
        data = M.APEv2Data(f)
    assert data.items == 2 and b"Genre\0Jazz" in data.tag and data.end == path.stat().st_size


def test_id3_syncsafe_ints_unsynchronisation_and_frame_sizes():
    assert M.BitPaddedInt(b"\x00\x00\x01\x7f") == 255
    assert M.BitPaddedInt.to_str(255, width=4) == b"\x00\x00\x01\x7f"
    assert M.unsynch.encode(b"\xff\xe0") == b"\xff\x00\xe0"
    assert M.unsynch.decode(b"\xff\x00\xe0") == b"\xff\xe0"
    from mutagen.id3 import Frames

    frame = b"TCON" + M.BitPaddedInt.to_str(5, width=4) + b"\0\0" + b"\x03Jazz"
    assert M.determine_bpi(frame, Frames) is M.BitPaddedInt  # v2.4 sizes are syncsafe


def test_mp4_atoms_render_and_raw_atoms_round_trip(tmp_path):
    path = make_audio(tmp_path / "a.m4a", 0.5, codec="aac")
    rendered = M.render_mp4_atom("\xa9gen", ["Jazz"])
    assert rendered[4:8] == b"\xa9gen" and int.from_bytes(rendered[:4], "big") == len(rendered)
    audio = MP4(path)
    M.set_raw_mp4_atoms(audio.tags, [(rendered[4:8], rendered[8:]), (b"\xa9alb", rendered[8:])])
    audio.save()
    assert MP4(path).tags["\xa9gen"] == ["Jazz"] and MP4(path).tags["\xa9alb"] == ["Jazz"]
    with open(path, "rb") as f:
        ilst = M.MP4Atoms(f).path(b"moov", b"udta", b"meta", b"ilst")[-1]
        assert [c.name for c in ilst.children] == [b"\xa9gen", b"\xa9alb"]


def _private_mutagen_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mutagen"):
            names = [a.name for a in node.names]
            if any(part.startswith("_") for part in node.module.split(".")) or any(
                    n.startswith("_") or n in ("Atoms", "AIFFFile") for n in names):
                found.append(f"{node.module}: {', '.join(names)}")
        elif isinstance(node, ast.Attribute) and node.attr in ("_render", "_failed_atoms"):
            found.append(node.attr)
    return found


def test_no_other_module_uses_a_private_mutagen_name():
    used = {str(p.relative_to(TAGGER)): _private_mutagen_imports(p) for p in TAGGER.rglob("*.py")}
    assert {p: names for p, names in used.items() if names} == {
        "tags/_mutagen.py": used["tags/_mutagen.py"]}
    assert sorted(used["tags/_mutagen.py"]) == [  # each has its test above
        "_failed_atoms", "_render", "mutagen._iff: InvalidChunk", "mutagen._riff: RiffFile",
        "mutagen._util: delete_bytes, resize_bytes", "mutagen.aiff: AIFFFile",
        "mutagen.apev2: _APEv2Data", "mutagen.id3._tags: determine_bpi",
        "mutagen.id3._util: BitPaddedInt, unsynch", "mutagen.mp4: Atoms"]
