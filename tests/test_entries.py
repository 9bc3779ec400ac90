"""tagger.tags.entries: the one routine that replaces and restores a tag
block's genre entries, for every format."""

from __future__ import annotations

import pytest

from tagger.tags.entries import genre_entries, replaced, restored


def is_genre(entry: str) -> bool:
    return entry.startswith("G")


@pytest.mark.parametrize("entries, new, expected", [
    (["a", "G1", "b", "G2", "c"], ["Gx"], ["a", "Gx", "b", "c"]),  # the first one's place
    (["G1", "a"], ["Gx", "Gy"], ["Gx", "Gy", "a"]),
    (["a", "b"], ["Gx"], ["a", "b", "Gx"]),  # none before: last
    (["a", "G1", "b", "G2"], [], ["a", "b"]),  # nothing new: removed
    ([], ["Gx"], ["Gx"]),
])
def test_replaced(entries, new, expected):
    assert replaced(entries, is_genre, new) == expected


def test_restored_puts_each_saved_entry_back_at_its_index_whatever_the_order_given():
    before = ["a", "G1", "b", "G2", "c"]
    saved = genre_entries(before, is_genre)
    assert saved == [(1, "G1"), (3, "G2")]
    after = replaced(before, is_genre, ["Gx"])
    assert restored(after, is_genre, saved) == before
    assert restored(after, is_genre, list(reversed(saved))) == before  # two shapes did not sort
    assert restored(["a"], is_genre, saved) == ["a", "G1", "G2"]  # fewer entries now: last
