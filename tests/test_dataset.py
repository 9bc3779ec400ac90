import numpy as np
import pytest

from audiofiles import make_audio
from tagger.training.dataset import folds, load_folder, load_folders, max_folds
from tagger.errors import DataError


def _folder(root, name, labels, per_label, artists=None):
    """<root>/<name>/<label>/<i>.wav, tiny real files; with ``artists`` (i ->
    artist) a manifest.csv naming them."""
    folder = root / name
    rows = ["file,genre,artist,seconds"]
    for label in labels:
        (folder / label).mkdir(parents=True)
        for i in range(per_label):
            make_audio(folder / label / f"{i}.wav", 0.1)
            if artists:
                rows.append(f"{label}/{i}.wav,{label},{label}-{artists(i)},0.1")
    if artists:
        (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    # "emo": 12 tracks a label by 4 artists of 3 tracks each (artists 0-3).
    emo = _folder(root, "emo", ["rock", "electronic"], 12, artists=lambda i: i // 3)
    gtz = _folder(root, "gtz", ["rock", "blues"], 6)
    return gtz, emo


def test_manifest_artists_group_the_tracks(two_sources):
    gtz, emo = two_sources
    data = load_folder(emo)
    assert data.sources == ["emo"] * 24
    assert data.groups.count("emo:rock-0") == 3 and len(set(data.groups)) == 8
    assert data.split_by() == {"emo": "artist"}
    plain = load_folder(gtz)
    assert plain.groups == plain.paths and plain.split_by() == {"gtz": "track"}


def test_several_folders_share_the_union_of_their_labels(two_sources):
    data = load_folders(two_sources)
    assert data.labels == ["blues", "electronic", "rock"]
    assert data.counts() == {"blues": 6, "electronic": 12, "rock": 18}
    assert data.split_by() == {"gtz": "track", "emo": "artist"}
    rock = data.labels.index("rock")
    assert {s for s, v in zip(data.sources, data.y) if v == rock} == {"gtz", "emo"}


def test_cv_never_puts_one_artist_on_both_sides(two_sources):
    data = load_folders(two_sources)
    assert max_folds(data) == 4  # 4 artists per emo label
    for seed in range(5):
        seen_test = []
        for train, test in folds(data, 4, seed):
            assert not set(train) & set(test)
            train_groups = {data.groups[i] for i in train}
            test_groups = {data.groups[i] for i in test}
            assert not train_groups & test_groups
            # stratified: every fold tests every (source, label) cell
            assert {(data.sources[i], int(data.y[i])) for i in test} == set(zip(data.sources, data.y.tolist()))
            seen_test.extend(test)
        assert sorted(seen_test) == list(range(len(data.y)))
    with pytest.raises(DataError, match="smallest label's number of artists or tracks \\(4\\)"):
        folds(data, 5)


def test_same_folder_name_twice_is_refused(two_sources, tmp_path):
    gtz, _ = two_sources
    other = _folder(tmp_path, gtz.name, ["a", "b"], 1)
    with pytest.raises(DataError, match="same name"):
        load_folders([gtz, other])


def test_subset_keeps_sources_and_groups(two_sources):
    data = load_folders(two_sources)
    sub = data.subset(np.array([0, len(data.y) - 1]))
    assert sub.sources == [data.sources[0], data.sources[-1]]
    assert sub.groups == [data.groups[0], data.groups[-1]]
