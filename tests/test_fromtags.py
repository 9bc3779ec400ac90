import pytest

from audiofiles import make_audio, make_format
from tagger import tags
from tagger.errors import DataError
from tagger.training.fromtags import MIN_TRACKS, genre_key, read_library, split_values


@pytest.mark.parametrize("spellings", [
    ["Hip Hop", "Hip-Hop", "HipHop", "hiphop", "HIP HOP", " hip  hop "],
    ["Drum & Bass", "Drum and Bass", "Drum 'n' Bass", "drum+bass", "DRUM-N-BASS"],
    ["Alternative Rock", "Alt. Rock", "alternative-rock", "Alt Rock"],
    ["R&B", "RnB", "r and b"],
    ["Électronique", "electronique", "ELECTRONIQUE"],
    ["Rock & Roll", "Rock and Roll", "Rock 'n' Roll", "rock-n-roll"],
])
def test_spellings_of_one_genre_have_one_key(spellings):
    assert len({genre_key(s) for s in spellings}) == 1
    assert genre_key(spellings[0])


@pytest.mark.parametrize("a, b", [("Rock", "Hard Rock"), ("Pop", "K-Pop"), ("Jazz", "Acid Jazz"),
                                  ("Electronic", "Electro Rock"), ("Alternative Rock", "Rock")])
def test_different_genres_have_different_keys(a, b):
    assert genre_key(a) != genre_key(b)


@pytest.mark.parametrize("value", ["", "   ", "-", "255", "(255)", "Unknown", "other", "N/A",
                                   "genre"])
def test_values_naming_no_genre(value):
    assert genre_key(value) == ""


def test_split_values():
    assert split_values(["Rock; Pop", "Jazz/Blues", " Folk | World ", "a,b", "", "  "]) == [
        "Rock", "Pop", "Jazz", "Blues", "Folk", "World", "a", "b"]
    # An ID3v1 genre name keeps its "/": it is one genre.
    assert split_values(["Pop/Funk", "Pop/Rock"]) == ["Pop/Funk", "Pop", "Rock"]
    assert split_values(["Hip  Hop"]) == ["Hip Hop"]  # spaces collapsed, the spelling kept


@pytest.mark.parametrize("name", ["mp3", "flac", "ogg", "opus", "aac", "aiff", "wma", "wv"])
def test_read_artist(tmp_path, name):
    tagged = make_format(tmp_path, name, "tagged", metadata={"artist": " Ana ", "genre": "Rock"})
    assert tags.read_artist(tagged) == "Ana"
    assert tags.read_artist(make_format(tmp_path, name, "bare")) is None


def _file(root, artist, album, n, genre=None, ext=".ogg"):
    meta = {"artist": artist, "album": album, "title": f"t{n}"}
    if genre is not None:
        meta["genre"] = genre
    path = root / artist / album / f"{n:02d} t{n}{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_audio(path, 0.2, metadata=meta)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A library whose tags are as messy as real ones."""
    root = tmp_path_factory.mktemp("messy")
    for n in range(3):
        _file(root, "Xa", "One", n, "Rock")
    for n in range(2):
        _file(root, "Yo", "Two", n, "(17)", ext=".mp3")  # ID3v1 number: Rock
    for n in range(3):
        _file(root, "Zed", "Three", n, "Jazz; Blues")
    for n in range(2):
        _file(root, "Wu", "Four", n, "jazz/Blues")
    for n in range(6):
        _file(root, "Vi", "Trance Album", n, "Trance")  # one album only
    for n in range(3):
        _file(root, "Ul", "Five", n, "Hip Hop")
    for n in range(2):
        _file(root, "Ul", "Six", n, "HipHop")  # another album, same artist: one group
    _file(root, "Ta", "Seven", 0, "Polka")  # a genre on one file
    _file(root, "Ta", "Seven", 1, "(255)")  # a number that names no genre
    _file(root, "Ta", "Seven", 2, "Unknown")
    _file(root, "Ta", "Seven", 3, "")  # an empty tag
    _file(root, "Ta", "Seven", 4)
    (root / "Ta" / "Seven" / "05 broken.mp3").write_bytes(b"not an mp3 at all")
    return root


def test_messy_library_trains_and_says_what_it_left_out(messy):
    lib = read_library([messy])
    assert lib.data.labels == ["Jazz", "Rock"]
    assert lib.data.counts() == {"Jazz": 5, "Rock": 5}
    assert lib.spellings == {"Jazz": {"Jazz": 3, "jazz": 2}, "Rock": {"Rock": 5}}
    assert lib.several == 5
    lines = lib.summary()
    assert lines[:3] == ['10 tagged files in 2 genres: Jazz 5, Rock 5',
                         '  Jazz: also spelled "jazz" (2)',
                         f"left out Hip Hop: all 5 files are one album or artist; "
                         f"cross-validation needs 2"]
    assert f"left out Polka: 1 file, fewer than {MIN_TRACKS}" in lines
    assert "left out Trance: all 6 files are one album or artist; cross-validation needs 2" in lines
    assert "5 files name several genres: each is learnt as its first" in lines
    assert 'ignored values that name no genre: "(255)" (1), "Unknown" (1)' in lines
    assert any(line.startswith("skipped ") and "05 broken.mp3" in line for line in lines)
    assert lines[-1] == "4 files have no genre"  # "(255)", "Unknown", "" and no tag


def test_groups_join_albums_and_artists(messy):
    lib = read_library([messy])
    group = dict(zip(lib.data.paths, lib.data.groups))
    rock = [p for p, y in zip(lib.data.paths, lib.data.y) if lib.data.labels[y] == "Rock"]
    assert len({group[p] for p in rock}) == 2  # album One by Xa, album Two by Yo
    assert lib.data.split_by() == {"library": "artist"}


def test_too_few_genres_is_an_error_naming_them(tmp_path):
    for n in range(5):
        _file(tmp_path, "A", "X", n, "Rock")
    _file(tmp_path, "B", "Y", 0, "Jazz")
    with pytest.raises(DataError, match="fewer than two genres to learn; left out Jazz: 1 file, "
                                        "fewer than 5; left out Rock: all 5 files are one album "
                                        "or artist; cross-validation needs 2"):
        read_library([tmp_path])
