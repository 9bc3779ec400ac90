"""tagger.tags.delta: the binary diff that gives a tag edit's old bytes back.

Real tag edits on every format are in test_journal.py (write, undo, SHA-256);
here, edits of the shapes tag writers make, on random bytes of several blocks.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest

from tagger.tags.delta import BLOCK, Delta, diff, patch

RNG = np.random.default_rng(7)


def _bytes(n: int) -> bytes:
    return RNG.integers(0, 256, n, dtype=np.uint8).tobytes()


def grown_head(data):  # an ID3v2 tag that grows: everything after it moves
    return data[:10] + _bytes(3000) + data[400:]


def both_ends(data):  # ID3v2 grows, an APEv2 + ID3v1 at the end shrinks
    return data[:10] + _bytes(900) + data[200:-700] + _bytes(100) + data[-128:]


def size_field_and_tail(data):  # a WAV: RIFF size at byte 4, a chunk appended
    return data[:4] + b"\1\2\3\4" + data[8:] + _bytes(2000)


def renumbered_pages(data):  # Ogg: a page more, then 8 bytes changed every 4 KiB
    out = bytearray(data[:5000] + _bytes(4096) + data[5000:])
    for at in range(9096 + 22, len(out) - 8, 4096):
        out[at:at + 8] = _bytes(8)
    return bytes(out)


def shrunk(data):
    return data[:100] + data[2100:]


@pytest.mark.parametrize("edit", [grown_head, both_ends, size_field_and_tail,
                                  renumbered_pages, shrunk])
def test_the_original_is_rebuilt_from_a_small_delta(tmp_path, edit):
    original = _bytes(3 * BLOCK + 12345)
    written = edit(original)
    (tmp_path / "a").write_bytes(original)
    (tmp_path / "b").write_bytes(written)

    delta = Delta.from_blob(diff(tmp_path / "a", tmp_path / "b").to_blob())

    out = io.BytesIO()
    with open(tmp_path / "b", "rb") as f:
        digest = patch(delta, f, out)
    assert out.getvalue() == original
    assert digest == delta.original_sha256 == hashlib.sha256(original).digest()
    assert delta.written_sha256 == hashlib.sha256(written).digest()
    changed = len(written) - len(original) + 2 * 4096  # what an edit changes, with room
    assert len(delta.literals) < max(changed, len(original) // 50)


def test_an_empty_file(tmp_path):
    (tmp_path / "a").write_bytes(b"")
    (tmp_path / "b").write_bytes(b"tag")
    delta = diff(tmp_path / "a", tmp_path / "b")
    out = io.BytesIO()
    with open(tmp_path / "b", "rb") as f:
        assert patch(delta, f, out) == hashlib.sha256(b"").digest()
    assert out.getvalue() == b""


def test_a_delta_of_another_file_does_not_rebuild_the_original(tmp_path):
    original = _bytes(BLOCK)
    (tmp_path / "a").write_bytes(original)
    (tmp_path / "b").write_bytes(grown_head(original))
    delta = diff(tmp_path / "a", tmp_path / "b")
    out = io.BytesIO()
    other = io.BytesIO(_bytes(BLOCK + 2610))
    assert patch(delta, other, out) != delta.original_sha256


def test_a_blob_that_is_not_a_delta_is_refused():
    with pytest.raises(ValueError):
        Delta.from_blob(b"not zlib")


def test_periodic_audio_is_matched_at_a_near_shift(tmp_path):
    # A pure tone repeats every few hundred bytes: a sample of it is found at
    # many shifts; the nearest one to its own offset keeps the delta small.
    header, period = _bytes(44), _bytes(200)
    original = header + period * 440
    written = header[:4] + _bytes(1074) + header[4:] + period * 440 + _bytes(1037)
    (tmp_path / "a").write_bytes(original)
    (tmp_path / "b").write_bytes(written)
    delta = diff(tmp_path / "a", tmp_path / "b")
    out = io.BytesIO()
    with open(tmp_path / "b", "rb") as f:
        patch(delta, f, out)
    assert out.getvalue() == original
    assert len(delta.literals) <= len(header)  # not the periodic bytes
