"""The genre fields of MP4/M4A (AAC and ALAC): the ``\\xa9gen`` and ``gnre`` atoms.

The ilst is kept as raw (name, payload) atoms in file order; only the genre
atoms change. mutagen would re-render and re-sort every atom; but it writes
the atoms it could not parse back raw, in order, and still moves the chunk
offsets (stco/co64/tfhd) when the ilst changes size. So the tag object is
emptied and every atom handed to it as "unparsed". The old numeric ``gnre``
atom is read (mutagen maps its ID3v1 number to a name), removed when
``\\xa9gen`` is written, never written itself except by an undo that puts one
back. A ``tagfields.Family``: values, state, write, restore.
"""

from __future__ import annotations

from mutagen.mp4 import Atoms as MP4Atoms, MP4Tags

from ._raw import id3 as rawtags
from .fields import Family, GenreField, b64, open_tagged, unb64

_GENRE_ATOMS = (b"\xa9gen", b"gnre")


class _RawAtoms:
    """Stands in for ``MP4Tags._failed_atoms`` (its save only calls
    ``items()``): the ilst's atoms, raw and in order, duplicates included."""

    def __init__(self, atoms: list[tuple[bytes, bytes]]):
        self.atoms = atoms

    def items(self):
        return [(name.decode("latin-1"), [payload]) for name, payload in self.atoms]


def _values(audio, path, field: GenreField) -> list[str]:
    tags = audio.tags
    return [str(v) for v in (tags or {}).get("\xa9gen", [])]


def _atoms(path) -> list[tuple[bytes, bytes]]:
    """(name, payload) of every ilst child, in file order; [] without an ilst."""
    with open(path, "rb") as f:
        try:
            ilst = MP4Atoms(f).path(b"moov", b"udta", b"meta", b"ilst")[-1]
        except KeyError:
            return []
        atoms = []
        for atom in ilst.children:
            ok, payload = atom.read(f)
            if not ok:
                raise rawtags.RawTagError(f"truncated {atom.name!r} atom")
            atoms.append((atom.name, payload))
    return atoms


def _state(path, field: GenreField) -> dict:
    return {"atoms": [[i, name.decode("latin-1"), b64(payload)]
                      for i, (name, payload) in enumerate(_atoms(path))
                      if name in _GENRE_ATOMS]}


def _save(path, field: GenreField, genre_atoms: list[tuple[int, bytes, bytes]],
          new: bool) -> None:
    """Save the ilst with its genre atoms replaced by ``genre_atoms``
    ((index, name, payload); ``new``: the index is where the first old one was)."""
    audio = open_tagged(path, field, bool(genre_atoms))
    if audio is None:
        return
    atoms = _atoms(path)
    first = next((i for i, (n, _) in enumerate(atoms) if n in _GENRE_ATOMS), None)
    atoms = [a for a in atoms if a[0] not in _GENRE_ATOMS]
    for index, name, payload in genre_atoms:
        at = (len(atoms) if first is None else first) + index if new else index
        atoms.insert(min(at, len(atoms)), (name, payload))
    audio.tags.clear()
    audio.tags._failed_atoms = _RawAtoms(atoms)
    audio.save()


def _write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    atoms = []
    if genres:  # mutagen renders the new atom: header (8 bytes) + payload
        rendered = MP4Tags()._render("\xa9gen", list(genres))
        atoms = [(0, rendered[4:8], rendered[8:])]
    _save(path, field, atoms, new=True)


def _restore(path, field: GenreField, state: dict) -> None:
    _save(path, field, [(i, name.encode("latin-1"), unb64(payload))
                        for i, name, payload in state["atoms"]], new=False)


MP4 = Family("mp4", _values, _state, _write, _restore)
