"""A compact binary diff: the bytes a tag edit replaced, to give them back exactly.

``diff(original, written)`` compares a file before a tag edit (its backup)
with the file after it, streaming both a ``BLOCK`` at a time, and keeps only
what the edit changed. A tag edit rewrites a tag block at the start or the
end (or both) and a size field or two, and moves whatever follows a block
that changed size: so nearly every byte of the original is in the written
file at its own offset plus one of a few shifts. For each block the diff
tries the shifts it has seen, 0, the change of the file's size, and those at
which a few samples of the block are found nearby; each run of the original
is then a copy from the written file at a shift, or a literal (the old tag
bytes, an Ogg page's old sequence number and checksum). Matches shorter than
``MIN_MATCH`` are taken for chance and stored as literals. For tagger's
writes a diff holds a few hundred bytes; a 70 MB WAV's is its old tag.

``patch(delta, written, out)`` rebuilds the original from the written file
and returns its SHA-256 for the caller to check. Nothing here knows a format.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

BLOCK = 1024 * 1024  # bytes compared per step: memory stays a few blocks, whatever the file
MIN_MATCH = 32  # bytes: a shorter match is chance, cheaper stored as a literal than as a step
SAMPLE = 64  # bytes of the original looked for in the written file, to find a shift
SAMPLES = 4  # samples per block
REACHES = (4096, 64 * 1024, 256 * 1024)  # bytes: how far from its own offset a sample is
# looked for, nearest first (periodic audio, a tone, matches at many shifts)
MAX_SHIFTS = 12  # shifts tried per block, at most

LITERAL = None  # a step's shift when its bytes are in ``Delta.literals``
_HEADER = struct.Struct("<4sqq32s32s")  # magic, original size, size change, two SHA-256s
_MAGIC = b"TGD1"
_STEP = struct.Struct("<?qq")  # literal?, shift in bytes, length in bytes


@dataclass(frozen=True)
class Delta:
    """How to rebuild a file's bytes from before an edit out of its bytes after it.

    ``steps`` cover the original in order: (shift, length) copies ``length``
    bytes of the written file from the original's offset plus ``shift``;
    (LITERAL, length) takes the next ``length`` bytes of ``literals``.
    """

    original_size: int  # bytes
    shift: int  # bytes: written size minus original size
    original_sha256: bytes
    written_sha256: bytes
    steps: tuple[tuple[int | None, int], ...]
    literals: bytes

    def to_blob(self) -> bytes:
        """The delta as the journal stores it (zlib-compressed)."""
        raw = io.BytesIO()
        raw.write(_HEADER.pack(_MAGIC, self.original_size, self.shift,
                               self.original_sha256, self.written_sha256))
        raw.write(struct.pack("<q", len(self.steps)))
        for shift, length in self.steps:
            raw.write(_STEP.pack(shift is LITERAL, shift or 0, length))
        raw.write(self.literals)
        return zlib.compress(raw.getvalue(), 9)

    @classmethod
    def from_blob(cls, blob: bytes) -> Delta:
        """The inverse of ``to_blob``; ValueError for anything else."""
        try:
            raw = zlib.decompress(blob)
            magic, size, shift, before, after = _HEADER.unpack_from(raw)
            (count,) = struct.unpack_from("<q", raw, _HEADER.size)
            offset = _HEADER.size + 8
            steps = []
            for i in range(count):
                literal, at, length = _STEP.unpack_from(raw, offset + i * _STEP.size)
                steps.append((LITERAL if literal else at, length))
        except (zlib.error, struct.error) as e:
            raise ValueError(f"not a delta: {e}") from e
        if magic != _MAGIC:
            raise ValueError("not a delta")
        return cls(size, shift, before, after, tuple(steps), raw[offset + count * _STEP.size:])


def sha256_of(path: str | os.PathLike) -> bytes:
    """The SHA-256 digest of a file's bytes, read a block at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
    return h.digest()


def diff(original: str | os.PathLike, written: str | os.PathLike) -> Delta:
    """The delta that rebuilds ``original``'s bytes from ``written``'s. Raises OSError."""
    size, written_size = os.path.getsize(original), os.path.getsize(written)
    before, after = hashlib.sha256(), hashlib.sha256()
    steps = _Steps()
    with open(original, "rb") as old, open(written, "rb") as new:
        for start in range(0, size, BLOCK):
            block = old.read(BLOCK)
            before.update(block)
            _compare(np.frombuffer(block, np.uint8), start, new, written_size,
                     written_size - size, steps)
        new.seek(0)
        while data := new.read(BLOCK):
            after.update(data)
    return Delta(size, written_size - size, before.digest(), after.digest(),
                 tuple(steps.runs), bytes(steps.literals))


def patch(delta: Delta, written: BinaryIO, out: BinaryIO) -> bytes:
    """Write the original's bytes to ``out``, read from ``written`` (the file
    as the edit left it, open for reading); return their SHA-256 digest, which
    the caller compares with ``delta.original_sha256``. ValueError when
    ``written`` is too short to hold what the delta copies from it."""
    h = hashlib.sha256()
    position = literal = 0
    for shift, length in delta.steps:
        if shift is LITERAL:
            data = delta.literals[literal:literal + length]
            literal += length
            h.update(data)
            out.write(data)
        else:
            written.seek(position + shift)
            left = length
            while left:
                data = written.read(min(left, BLOCK))
                if not data:
                    raise ValueError("the file is shorter than the delta says")
                left -= len(data)
                h.update(data)
                out.write(data)
        position += length
    return h.digest()


class _Steps:
    """Runs of (shift, length), a run joined to the last one when their shifts
    are the same; the shifts the last block used, tried first in the next."""

    def __init__(self):
        self.runs: list[tuple[int | None, int]] = []
        self.literals = bytearray()
        self.recent: list[int] = []

    def add(self, shift: int | None, length: int, data: np.ndarray | None = None) -> None:
        """A run of ``length`` bytes; ``data``, its bytes, for a LITERAL run."""
        if self.runs and self.runs[-1][0] == shift:
            self.runs[-1] = (shift, self.runs[-1][1] + length)
        else:
            self.runs.append((shift, length))
        if shift is LITERAL:
            self.literals += data.tobytes()


def _compare(block: np.ndarray, start: int, new: BinaryIO, size: int, grown: int,
             steps: _Steps) -> None:
    """Add the runs of the original's block at offset ``start``: each byte is
    copied from the written file (``new``, ``size`` bytes, ``grown`` more than
    the original) at the first shift, by how much of the block it covers,
    that matches it there; else literal. Most blocks are found whole at the
    shift of the block before (or 0, or ``grown``): one comparison."""
    likely = list(dict.fromkeys([*steps.recent, 0, grown]))
    for shift in likely:
        if 0 <= start + shift and start + shift + len(block) <= size:
            new.seek(start + shift)
            if new.read(len(block)) == block.tobytes():
                steps.add(shift, len(block))
                steps.recent = [shift] + [s for s in steps.recent if s != shift]
                return
    at = [(2 * k + 1) * len(block) // (2 * SAMPLES) for k in range(SAMPLES)]
    shifts = list(dict.fromkeys([*likely, *_found_shifts(block, at, start, new, size)]))
    masks, choice = _choose(block, start, new, size, shifts)
    # Bytes no shift covers yet: look for them too (a sample of periodic audio,
    # a tone, is found at a shift that fits it but not what lies before it).
    literal = np.diff(np.concatenate(([False], choice == len(masks), [False])).view(np.int8))
    runs = zip(np.flatnonzero(literal == 1)[:SAMPLES], np.flatnonzero(literal == -1))
    inside = [at for lo, hi in runs for at in (lo, lo + SAMPLE, (lo + hi) // 2) if at < hi]
    more = [s for s in _found_shifts(block, inside, start, new, size) if s not in shifts]
    if more:
        masks, choice = _choose(block, start, new, size, shifts + more)
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(choice)) + 1, [len(choice)]))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        i = int(choice[lo])
        steps.add(masks[i][0] if i < len(masks) else LITERAL, int(hi - lo), block[lo:hi])
    steps.recent = [shift for shift, _mask in masks]


def _choose(block: np.ndarray, start: int, new: BinaryIO, size: int, shifts: list[int]):
    """Per byte of the block, the first shift (by how much of the block it
    covers) at which it is in a match: (shift, mask) pairs, and an index
    into them per byte (their number: literal)."""
    masks = []
    for shift in shifts[:MAX_SHIFTS]:
        there, inside = _read_at(new, start + shift, len(block), size)
        masks.append((shift, _long_runs((block == there) & inside)))
    masks.sort(key=lambda m: -int(m[1].sum()))
    masks = [m for m in masks if m[1].any()]
    choice = np.full(len(block), len(masks), np.int64)
    for i, (_shift, mask) in reversed(list(enumerate(masks))):
        choice[mask] = i
    return masks, choice


def _found_shifts(block: np.ndarray, offsets: list[int], start: int, new: BinaryIO,
                  size: int) -> list[int]:
    """Shifts at which samples of the block (at these offsets in it) are found
    in the written file, each the nearest to its own offset within the
    largest of REACHES."""
    found = []
    for at in offsets:
        sample = block[at:at + SAMPLE].tobytes()
        if len(sample) == SAMPLE:
            shift = _nearest(sample, start + at, new, size)
            if shift is not None:
                found.append(shift)
    return found


def _nearest(sample: bytes, position: int, new: BinaryIO, size: int) -> int | None:
    """The shift from ``position`` of the nearest place ``sample`` is in ``new``."""
    for reach in REACHES:
        lo, hi = max(0, position - reach), min(size, position + reach + len(sample))
        new.seek(lo)
        window = new.read(hi - lo)
        hits = [h for h in (window.find(sample, position - lo),
                            window.rfind(sample, 0, position - lo + len(sample) - 1)) if h >= 0]
        if hits:
            return min((lo + h - position for h in hits), key=abs)
    return None


def _read_at(f: BinaryIO, offset: int, length: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``length`` bytes of ``f`` from ``offset`` (which may lie before 0 or run
    past ``size``), and a mask of the positions inside the file."""
    lo, hi = max(offset, 0), min(offset + length, size)
    data = np.zeros(length, np.uint8)
    inside = np.zeros(length, bool)
    if hi > lo:
        f.seek(lo)
        chunk = np.frombuffer(f.read(hi - lo), np.uint8)
        data[lo - offset:lo - offset + len(chunk)] = chunk
        inside[lo - offset:lo - offset + len(chunk)] = True
    return data, inside


def _long_runs(match: np.ndarray) -> np.ndarray:
    """``match`` with its runs of True shorter than MIN_MATCH set to False."""
    edges = np.diff(np.concatenate(([0], match.view(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = ends - starts >= MIN_MATCH
    marks = np.zeros(len(match) + 1, np.int32)
    marks[starts[keep]] += 1
    marks[ends[keep]] -= 1
    return np.cumsum(marks[:-1]) > 0
