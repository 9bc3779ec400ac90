"""tagger.writing.policy: what --write would do with each file."""

from __future__ import annotations

import pytest

from audiofiles import AudioLibrary
from tagger.results import Action, TrackResult
from tagger.writing import policy as P
from tagger.errors import TagError, TaggerError
from tagger.writing.policy import Decision, WritePolicy, album_consensus, decide, plan


def result(path="/music/a.mp3", *predictions, status="ok", error=None, album=None,
           unsure=False):
    """A classification result; predictions as (label, confidence) pairs."""
    preds = predictions or (("hiphop", 0.91), ("jazz", 0.05))
    return TrackResult(path, status, list(preds), error, album=album, unsure=unsure)


POLICY = WritePolicy(min_confidence=0.5)


@pytest.mark.parametrize("res, current, pol, expected", [
    (result(), [], POLICY, Decision(Action.WRITE, ["Hip-Hop"], "hiphop 0.91")),
    (result(), None, POLICY, Decision(Action.WRITE, ["Hip-Hop"], "hiphop 0.91")),
    (result("/m/a.mp3", ("rock", 0.42), ("pop", 0.3)), [], POLICY,
     Decision(Action.BELOW, [], "best genre rock at 0.42 < 0.50")),
    (result("/m/a.mp3", ("rock", 0.5)), [], POLICY,
     Decision(Action.WRITE, ["Rock"], "rock 0.50")),  # the threshold is inclusive
    (result(status="error", error="cannot decode"), [], POLICY,
     Decision(Action.ERROR, [], "cannot decode")),
    (result("/m/a.aac"), [], POLICY,
     Decision(Action.UNSUPPORTED, [], "tagger cannot write genre tags to .aac files")),
    (result("/m/notes.txt"), [], POLICY,
     Decision(Action.UNSUPPORTED, [], "tagger cannot write genre tags to .txt files")),
    (result(), ["Rock"], POLICY,
     Decision(Action.KEEP, [], "has genres Rock; would write Hip-Hop (hiphop 0.91)")),
    (result(), ["Hip-Hop"], POLICY, Decision(Action.UNCHANGED, [], "already has these genres")),
    (result(), ["Rock"], WritePolicy(0.5, existing="overwrite"),
     Decision(Action.WRITE, ["Hip-Hop"], "hiphop 0.91")),
    (result(), ["Hip-Hop"], WritePolicy(0.5, existing="overwrite"),
     Decision(Action.UNCHANGED, [], "already has these genres")),
    (result(), ["Rock", "hip-hop"], WritePolicy(0.5, existing="merge"),
     Decision(Action.UNCHANGED, [], "already has these genres")),
    (result(), ["Rock"], WritePolicy(0.5, existing="merge"),
     Decision(Action.WRITE, ["Rock", "Hip-Hop"], "hiphop 0.91")),
    (result(), [], WritePolicy(0.5, exclude=["*/a.mp3"]),
     Decision(Action.EXCLUDED, [], "matches exclude pattern '*/a.mp3'")),
    (result(), [], WritePolicy(0.5, include=["/classical/*"]),
     Decision(Action.EXCLUDED, [], "matches no include pattern")),
])
def test_decide(res, current, pol, expected):
    assert decide(res, current, pol) == expected


def test_actions_keep_the_words_reports_show():
    assert list(Action) == ["write", "keep existing", "below threshold",
                            "unsupported format", "error", "unchanged", "excluded", "unsure", "rejected"]


@pytest.mark.parametrize("pol", [POLICY, WritePolicy(0.0, existing="overwrite", top_k=3)])
def test_an_unsure_result_is_never_written(pol):
    res = result("/m/a.flac", ("jazz", 0.2), ("rock", 0.95), ("blues", 0.3), unsure=True)
    expected = Decision(Action.UNSURE, [], "the model does not trust its verdict; best candidates rock 0.95, blues 0.30")
    assert decide(res, [], pol) == expected
    assert decide(res, [], pol, album_genres=["rock"]) == expected
    (entry,) = plan([res], pol, read=lambda path: []).entries
    assert entry.decision == expected


def test_top_k_takes_each_genre_that_passes_the_threshold():
    res = result("/m/a.flac", ("rock", 0.6), ("metal", 0.55), ("blues", 0.4))
    pol = WritePolicy(0.5, top_k=3)
    assert decide(res, [], pol) == Decision(Action.WRITE, ["Rock", "Metal"],
                                            "rock 0.60, metal 0.55")


def test_predictions_out_of_order_are_ranked():
    res = result("/m/a.flac", ("blues", 0.1), ("jazz", 0.8))
    assert decide(res, [], POLICY).genres_to_write == ["Jazz"]


def test_merge_keeps_existing_first_and_dedupes_case_insensitively():
    res = result("/m/a.flac", ("jazz", 0.7), ("rock", 0.6))
    pol = WritePolicy(0.5, top_k=2, existing="merge")
    assert decide(res, ["ROCK", "Soul"], pol).genres_to_write == ["ROCK", "Soul", "Jazz"]


def test_include_and_exclude_globs():
    pol = WritePolicy(0.5, include=["/music/*"], exclude=["*/Audiobooks/*"])
    assert decide(result("/music/x/a.mp3"), [], pol).action == Action.WRITE
    assert decide(result("/music/Audiobooks/a.mp3"), [], pol).action == Action.EXCLUDED
    assert decide(result("/podcasts/a.mp3"), [], pol).action == Action.EXCLUDED


def test_display_names_default_and_unknown_labels():
    assert POLICY.display("hiphop") == "Hip-Hop"
    assert POLICY.display("HipHop") == "Hip-Hop"
    assert POLICY.display("synthwave") == "synthwave"
    # Every label of the shipped model has one (electronic: "Electronic").
    from tagger.constants import DEFAULT_MODEL_DIR
    from tagger.model.card import read_card

    assert set(P.DEFAULT_DISPLAY_NAMES) == set(read_card(DEFAULT_MODEL_DIR).labels)
    assert POLICY.display("electronic") == "Electronic"


def test_album_genres_replace_the_track_prediction():
    res = result("/m/a.mp3", ("rock", 0.3))
    assert decide(res, [], POLICY, album_genres=["jazz"]) == Decision(
        Action.WRITE, ["Jazz"], "album consensus")


def album(folder, album_tag, *tops):
    return [result(f"{folder}/{i}.flac", *preds, album=album_tag)
            for i, preds in enumerate(tops)]


def test_album_consensus_majority_applies_to_all_tracks():
    tracks = album("/m/A", "Blue Train",
                   [("jazz", 0.9), ("blues", 0.1)],
                   [("jazz", 0.7), ("blues", 0.3)],
                   [("blues", 0.55), ("jazz", 0.45)])
    # mean confidence of jazz: (0.9 + 0.7 + 0.45) / 3 = 0.68
    assert album_consensus(tracks, POLICY) == {t.path: ["jazz"] for t in tracks}


def test_album_consensus_needs_the_mean_confidence():
    tracks = album("/m/A", None, [("jazz", 0.5)], [("jazz", 0.5)], [("rock", 0.9)])
    # jazz wins 2 to 1 but its mean is (0.5 + 0.5 + 0) / 3 < 0.5
    assert album_consensus(tracks, POLICY) == {}


def test_album_consensus_ties_go_to_the_higher_mean():
    tracks = album("/m/A", None, [("jazz", 0.9)], [("rock", 0.6)],
                   [("jazz", 0.6), ("rock", 0.4)], [("rock", 0.8), ("jazz", 0.2)])
    # 2 votes each; mean jazz (0.9+0+0.6+0.2)/4 = 0.425, rock (0+0.6+0.4+0.8)/4 = 0.45
    assert album_consensus(tracks, WritePolicy(0.4)) == {t.path: ["rock"] for t in tracks}


def test_album_consensus_groups_by_folder_and_album_tag():
    same_title_elsewhere = album("/m/B", "Greatest Hits", [("metal", 0.9)], [("metal", 0.9)])
    hits = album("/m/A", "Greatest Hits", [("pop", 0.9)], [("pop", 0.8)])
    other_album_same_folder = album("/m/A", "Other", [("rock", 0.9)], [("rock", 0.9)])
    single = [result("/m/C/x.flac", ("disco", 0.9))]
    failed = [result("/m/A/bad.flac", status="error", error="x", album="Greatest Hits")]
    consensus = album_consensus(
        same_title_elsewhere + hits + other_album_same_folder + single + failed, POLICY)
    assert {p: g[0] for p, g in consensus.items()} == {
        **{t.path: "metal" for t in same_title_elsewhere},
        **{t.path: "pop" for t in hits},
        **{t.path: "rock" for t in other_album_same_folder}}


def test_plan_reads_current_genres_and_applies_consensus():
    results = [*album("/m/A", "X", [("jazz", 0.9)], [("rock", 0.6), ("jazz", 0.35)],
                      [("jazz", 0.8)]),
               result("/m/B/unreadable.mp3"), result("/m/B/a.aac")]
    current = {"/m/A/0.flac": ["Jazz"], "/m/A/1.flac": [], "/m/A/2.flac": ["Soul"]}
    read_paths = []

    def read(path):
        read_paths.append(path)
        if path in current:
            return current[path]
        raise TagError("cannot read tags: bad header", path)

    planned = plan(results, WritePolicy(0.5, album_consensus=True), read=read).entries

    assert [e.decision.action for e in planned] == [
        Action.UNCHANGED, Action.WRITE, Action.KEEP, Action.ERROR, Action.UNSUPPORTED]
    assert planned[1].decision.genres_to_write == ["Jazz"]
    assert planned[1].album_genres == ["jazz"]
    assert planned[3].decision.reason == "cannot read tags: bad header"
    assert "/m/B/a.aac" not in read_paths  # no tag to read for unsupported files
    # The entries carry the genres read, not the ones the results came with.
    assert [e.result.current_genres for e in planned[:3]] == [["Jazz"], [], ["Soul"]]


def test_plan_without_a_reader_decides_on_the_results_own_genres():
    res = TrackResult("/m/a.flac", "ok", [("jazz", 0.9)], current_genres=["Soul"])
    (entry,) = plan([res], POLICY, read=None).entries
    assert entry.decision.action == Action.KEEP and entry.result is res


def test_plan_on_real_files(tmp_path_factory, tmp_path):
    library = AudioLibrary(tmp_path_factory.mktemp("originals"))
    tagged = library.copy("flac", tmp_path, tagged=True)
    bare = library.copy("mp3", tmp_path)
    planned = plan([result(str(tagged)), result(str(bare))], POLICY)
    assert [e.decision for e in planned] == [
        Decision(Action.KEEP, [], "has genres Rock; would write Hip-Hop (hiphop 0.91)"),
        Decision(Action.WRITE, ["Hip-Hop"], "hiphop 0.91")]


@pytest.mark.parametrize("kwargs, message", [
    ({"min_confidence": 1.5}, "min_confidence must be a number from 0 to 1, not 1.5"),
    ({"min_confidence": 0.5, "top_k": 0},
     "top_k must be a whole number of at least 1, not 0"),
    ({"min_confidence": 0.5, "existing": "replace"},
     "existing must be one of keep, merge, overwrite, not 'replace'"),
    ({"min_confidence": 0.5, "include": "*.mp3"},
     "include must be a list of glob patterns, not '*.mp3'"),
    ({"min_confidence": 0.5, "album_consensus": "yes"},
     "album_consensus must be true or false, not 'yes'"),
    ({"min_confidence": 0.5, "display_names": {"rock": ""}},
     "display_names must map labels to non-empty names"),
])
def test_bad_policy_values(kwargs, message):
    with pytest.raises(TaggerError) as e:
        WritePolicy(**kwargs)
    assert str(e.value) == message


def test_defaults_without_a_config():
    pol = WritePolicy.from_config({})
    assert pol == WritePolicy(P.DEFAULT_MIN_CONFIDENCE)
    assert (pol.top_k, pol.existing, pol.album_consensus) == (1, "keep", False)


def test_unknown_override_is_a_programming_error():
    with pytest.raises(TypeError):
        WritePolicy.from_config({}, min_confidnce=0.3)
