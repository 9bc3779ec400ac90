"""tagger.results: the public result types and outcome enums."""

from __future__ import annotations

import json

import tagger
from tagger.results import Action, TrackResult, UndoOutcome, WriteOutcome


def test_outcomes_are_exported_and_keep_the_words_reports_and_journals_hold():
    assert (tagger.Action, tagger.WriteOutcome, tagger.UndoOutcome) == (
        Action, WriteOutcome, UndoOutcome)
    assert list(WriteOutcome) == ["written", "skipped", "error"]
    assert list(UndoOutcome) == ["restored", "not identical", "unchanged", "refused", "error"]
    assert json.dumps([Action.KEEP, UndoOutcome.REFUSED]) == '["keep existing", "refused"]'
    assert f"{Action.BELOW}: {WriteOutcome.SKIPPED}" == "below threshold: skipped"


def test_the_same_word_at_two_stages_is_two_members():
    assert Action.UNCHANGED == UndoOutcome.UNCHANGED == "unchanged"
    assert type(Action.UNCHANGED) is not type(UndoOutcome.UNCHANGED)
    assert Action("unchanged") is Action.UNCHANGED


def test_track_result_is_one_type_wherever_it_is_imported_from():
    from tagger.store.cache import TrackResult as cached

    assert tagger.TrackResult is TrackResult is cached
    assert TrackResult("/a.mp3", "ok", [("rock", 0.9), ("pop", 0.1)]).top == ("rock", 0.9)
    assert TrackResult("/a.mp3", "error").top is None
