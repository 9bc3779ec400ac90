"""Every private or undocumented mutagen name tagger uses, imported here and
nowhere else (tests/test_mutagen_internals.py checks each one), so that a
mutagen release that moves one fails loudly in one place. pyproject.toml pins
mutagen to one minor release for them.

The byte-level editors (``_raw``) use mutagen's own file helpers: resizing a
region of a file in place, the RIFF/IFF chunk readers (WAV, AIFF), the APEv2
locator, ID3's syncsafe integers, unsynchronisation and frame-size rule.
``mp4`` lets mutagen render a ``\\xa9gen`` atom, and hands it the ilst's
atoms as the raw "failed" atoms its save writes back unparsed.
"""

from __future__ import annotations

from mutagen._iff import InvalidChunk
from mutagen._riff import RiffFile
from mutagen._util import delete_bytes, resize_bytes
from mutagen.aiff import AIFFFile  # undocumented (not in mutagen.aiff.__all__)
from mutagen.apev2 import _APEv2Data as APEv2Data
from mutagen.id3._tags import determine_bpi
from mutagen.id3._util import BitPaddedInt, unsynch
from mutagen.mp4 import Atoms as MP4Atoms  # undocumented (not in mutagen.mp4.__all__)
from mutagen.mp4 import MP4Tags

__all__ = ["InvalidChunk", "RiffFile", "delete_bytes", "resize_bytes", "AIFFFile",
           "APEv2Data", "determine_bpi", "BitPaddedInt", "unsynch", "MP4Atoms",
           "render_mp4_atom", "set_raw_mp4_atoms"]


def render_mp4_atom(key: str, values: list[str]) -> bytes:
    """A whole ilst child atom (size, name, data atoms) as mutagen writes it."""
    return MP4Tags()._render(key, values)


class _RawAtoms:
    """Stands in for ``MP4Tags._failed_atoms`` (its save only calls
    ``items()``): the ilst's atoms, raw and in order, duplicates included."""

    def __init__(self, atoms: list[tuple[bytes, bytes]]):
        self.atoms = atoms

    def items(self):
        return [(name.decode("latin-1"), [payload]) for name, payload in self.atoms]


def set_raw_mp4_atoms(tags: MP4Tags, atoms: list[tuple[bytes, bytes]]) -> None:
    """Make ``tags`` (emptied) save exactly ``atoms`` ((name, payload), in
    order) as its ilst: mutagen writes the atoms it could not parse back raw."""
    tags.clear()
    tags._failed_atoms = _RawAtoms(atoms)
