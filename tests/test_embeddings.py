"""A scan keeps each track's mean chunk embedding in the cache
(store.embeddings), so that training needs no decoding."""

import numpy as np
import pytest

import tagger
from musiclibrary import make_track
from tagger.library import walk
from tagger.store.cache import Cache
from tagger.store.embeddings import decode, encode


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    root = tmp_path_factory.mktemp("scanned")
    path = make_track(root / "Artist" / "Album" / "01 keys.ogg", "keys", 8.0, 1,
                      {"genre": "Classical"})
    db = root / "cache.db"
    results = list(tagger.scan([root], db=db, jobs=1, precision="float32"))
    assert [r.status for r in results] == ["ok"]
    return str(path), db


def _identity(path):
    track = next(walk([path]))
    return {track.path: (track.size, track.mtime_ns)}


def test_scan_keeps_the_mean_embedding_training_computes(scanned):
    from tagger.training.dataset import Dataset
    from tagger.training.train import MUSICNN_FRONTEND, chunks_per_track, embeddings

    path, db = scanned
    cache = Cache(db)
    got = cache.embeddings(_identity(path))
    cache.close()
    _, chunks = chunks_per_track(Dataset([path], np.zeros(1, int), ["x"]), MUSICNN_FRONTEND, 1,
                                 lambda m: None)
    want = embeddings(chunks)[0].mean(axis=0)
    assert got[path].shape == want.shape == (1706,)
    assert got[path].dtype == np.float32
    np.testing.assert_allclose(got[path], want, rtol=2e-3, atol=2e-3)  # float16 in the cache


def test_a_changed_file_has_no_cached_embedding(scanned):
    path, db = scanned
    cache = Cache(db)
    (size, mtime_ns), = _identity(path).values()
    assert cache.embeddings({path: (size, mtime_ns + 1)}) == {}
    assert cache.embeddings({path: (size + 1, mtime_ns)}) == {}
    cache.close()


@pytest.fixture
def cache_copy(scanned, tmp_path):
    """The scanned track's path and a Cache on a copy of its cache file, safe to change."""
    path, db = scanned
    copy = tmp_path / "cache.db"
    copy.write_bytes(db.read_bytes())
    cache = Cache(copy)
    yield path, cache
    cache.close()


def test_a_tag_write_keeps_the_embedding_under_the_new_identity(cache_copy):
    path, cache = cache_copy
    (size, mtime_ns), = _identity(path).values()
    old = cache.embeddings({path: (size, mtime_ns)})[path]
    cache.update_identity(path, size + 10, mtime_ns + 5, "new-fingerprint", ["Jazz"])
    assert np.array_equal(cache.embeddings({path: (size + 10, mtime_ns + 5)})[path], old)


def test_a_result_stored_without_an_embedding_clears_the_old_one(cache_copy):
    path, cache = cache_copy
    identity = _identity(path)
    assert cache.embeddings(identity)
    cache.store(cache.results([path])[0], *identity[path], "fp", "another-model")
    assert cache.embeddings(identity) == {}


def test_encode_decode_round_trip():
    x = np.array([0.0, 1.5, -2.25, 100.0], np.float32)
    assert encode(None) is None
    assert len(encode(x)) == 8  # float16: two bytes a value
    assert np.array_equal(decode(encode(x)), x)


def test_a_moved_file_a_copy_and_a_twin_keep_the_embedding(scanned, tmp_path):
    """Results taken from an identical file (a copy of a cached one, a cached
    one moved, two new copies analysed once) carry that file's embedding:
    training decodes none of them."""
    import shutil

    path, db = scanned
    cache_db = tmp_path / "cache.db"
    shutil.copyfile(db, cache_db)
    root, twins = tmp_path / "lib", tmp_path / "twins"
    root.mkdir()
    shutil.copyfile(path, root / "copy.ogg")      # a copy of the cached file
    shutil.copyfile(path, tmp_path / "away.ogg")  # another copy, then moved
    list(tagger.scan([root, tmp_path / "away.ogg"], db=cache_db, jobs=1, precision="float32"))
    shutil.move(tmp_path / "away.ogg", root / "moved.ogg")
    other = make_track(twins / "a.ogg", "beats", 6.0, 2, {})
    shutil.copyfile(other, twins / "b.ogg")       # two new identical files
    list(tagger.scan([root, twins], db=cache_db, jobs=1, precision="float32"))
    cache = Cache(cache_db)
    names = [path, root / "copy.ogg", root / "moved.ogg", twins / "a.ogg", twins / "b.ogg"]
    got = cache.embeddings({str(p): None for p in names})
    cache.close()
    assert set(got) == {str(p) for p in names}
    for p in names[1:3]:
        assert np.array_equal(got[str(p)], got[path])
    assert np.array_equal(got[str(twins / "a.ogg")], got[str(twins / "b.ogg")])
