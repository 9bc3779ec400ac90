"""tagger.audio.workers: the decode process pool: every file comes back once, a crash
or hang costs only its file, the backlog stays bounded."""

import pytest

import fakedecoder
from audiofiles import make_audio
from tagger.audio.features import MUSICNN_FRONTEND as FE
from tagger.audio.workers import DecodePool


@pytest.fixture
def files(tmp_path):
    return [str(make_audio(tmp_path / f"{name}.flac", 2.0, "drums"))
            for name in ("one", "crash-me", "two", "hang-me", "three")]


def test_pool_decodes_every_file(files):
    with DecodePool(FE, jobs=2) as pool:
        out = {d.path: d for d in pool.imap((p, None) for p in files)}
    assert set(out) == set(files)
    for d in out.values():
        assert d.error is None and d.spec.shape == (2 * FE.sample_rate // FE.hop_length + 1, FE.n_mels) and d.duration == pytest.approx(2.0)


def test_a_crashing_or_hanging_decoder_costs_only_its_file(files):
    with DecodePool(FE, jobs=2, timeout=10, analyse=fakedecoder.analyse) as pool:
        out = {d.path: d for d in pool.imap((p, None) for p in files)}
    errors = {p.rsplit("/", 1)[1]: d.error for p, d in out.items()}
    assert errors == {"one.flac": None, "two.flac": None, "three.flac": None,
                      "crash-me.flac": "decoder crashed (SIGSEGV)",
                      "hang-me.flac": "decoder timed out after 10 s"}


def _wait(condition, seconds: float = 60.0) -> bool:
    import time

    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_the_workers_go_on_while_the_consumer_is_busy(files):
    """Every file is decoded before the consumer asks for the first result
    (as while TensorFlow loads), within the backlog's bound."""
    files = [f for f in files if "-me" not in f]
    with DecodePool(FE, jobs=2) as pool:
        results = pool.imap((p, None) for p in files)
        assert _wait(lambda: not pool._thread.is_alive())
        assert sorted(d.path for d in results) == sorted(files)


def test_the_backlog_is_bounded(files, monkeypatch):
    from tagger.audio import workers

    monkeypatch.setattr(workers, "BACKLOG_BYTES", 1)  # room for one result only
    files = [f for f in files if "-me" not in f] * 2
    with DecodePool(FE, jobs=1) as pool:
        results = pool.imap((p, None) for p in files)
        # One result waits, the worker holds the next (finished), the rest wait untouched.
        assert not _wait(lambda: not pool._thread.is_alive(), seconds=3.0)
        assert len(list(results)) == len(files)
