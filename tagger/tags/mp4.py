"""The genre fields of MP4/M4A (AAC and ALAC): the ``\\xa9gen`` and ``gnre`` atoms.

The ilst is kept as raw (name, payload) atoms in file order; only the genre
atoms change. mutagen would re-render and re-sort every atom; but it writes
the atoms it could not parse back raw, in order, and still moves the chunk
offsets (stco/co64/tfhd) when the ilst changes size. So the tag object is
emptied and every atom handed to it as "unparsed". The old numeric ``gnre``
atom is read (mutagen maps its ID3v1 number to a name), removed when
``\\xa9gen`` is written, never written itself except by an undo that puts one
back. A ``fields.Family``: values, state, write, restore.
"""

from __future__ import annotations

from collections.abc import Callable

from ._mutagen import MP4Atoms, render_mp4_atom, set_raw_mp4_atoms
from ._raw import id3 as raw_id3
from .entries import genre_entries, replaced, restored
from .fields import Family, GenreField, b64, open_tagged, unb64

_GENRE_ATOMS = (b"\xa9gen", b"gnre")


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
                raise raw_id3.RawTagError(f"truncated {atom.name!r} atom")
            atoms.append((atom.name, payload))
    return atoms


def _is_genre(atom: tuple[bytes, bytes]) -> bool:
    return atom[0] in _GENRE_ATOMS


def _state(path, field: GenreField) -> dict:
    return {"atoms": [[i, name.decode("latin-1"), b64(payload)]
                      for i, (name, payload) in genre_entries(_atoms(path), _is_genre)]}


def _save(path, field: GenreField, needed: bool,
          change: Callable[[list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]) -> None:
    """Save the ilst as ``change(atoms)`` ((name, payload) in file order),
    written raw; a file without an ilst gets one only when ``needed``."""
    audio = open_tagged(path, field, needed)
    if audio is None:
        return
    set_raw_mp4_atoms(audio.tags, change(_atoms(path)))
    audio.save()


def _write(path, field: GenreField, genres: list[str], id3v23: bool) -> None:
    new = []
    if genres:  # mutagen renders the new atom: header (8 bytes) + payload
        rendered = render_mp4_atom("\xa9gen", list(genres))
        new = [(rendered[4:8], rendered[8:])]
    _save(path, field, bool(new), lambda atoms: replaced(atoms, _is_genre, new))


def _restore(path, field: GenreField, state: dict) -> None:
    saved = [(i, (name.encode("latin-1"), unb64(payload))) for i, name, payload in state["atoms"]]
    _save(path, field, bool(saved), lambda atoms: restored(atoms, _is_genre, saved))


MP4 = Family("mp4", _values, _state, _write, _restore)
