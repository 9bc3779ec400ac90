"""Replacing and restoring the genre entries of an ordered tag block: the one
routine every format shares, whatever its entries are (raw ID3 frames, APEv2
items, Vorbis comments, MP4 atoms, ASF attributes).

A write replaces a block's genre entries with new ones in the place of the
first old one (or last, when there was none); an undo puts the saved ones
back, each at the index it had. Everything else keeps its order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

Entry = TypeVar("Entry")


def genre_entries(entries: Sequence[Entry], is_genre: Callable[[Entry], bool]
                  ) -> list[tuple[int, Entry]]:
    """(index, entry) of each genre entry: what ``restored`` puts back."""
    return [(i, e) for i, e in enumerate(entries) if is_genre(e)]


def replaced(entries: Sequence[Entry], is_genre: Callable[[Entry], bool],
             new: Sequence[Entry]) -> list[Entry]:
    """``entries`` with the genre ones replaced by ``new``, placed where the
    first genre entry was, or last; an empty ``new`` removes them."""
    first = next((i for i, e in enumerate(entries) if is_genre(e)), None)
    others = [e for e in entries if not is_genre(e)]
    at = len(others) if first is None else first  # only others come before the first
    return others[:at] + list(new) + others[at:]


def restored(entries: Sequence[Entry], is_genre: Callable[[Entry], bool],
             saved: Iterable[tuple[int, Entry]]) -> list[Entry]:
    """``entries`` with the genre ones replaced by ``saved`` ((index, entry)
    from ``genre_entries``), each back at its index in index order (or last,
    when the block has fewer entries now)."""
    out = [e for e in entries if not is_genre(e)]
    for index, entry in sorted(saved, key=lambda s: s[0]):
        out.insert(min(index, len(out)), entry)
    return out
