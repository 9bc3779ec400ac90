import pytest

import fakedecoder
from audiofiles import make_audio
from tagger.features import FrontEnd
from tagger.workers import DecodePool, analyse

FE = FrontEnd(16000, 512, 256, 96, 187, 94)


@pytest.fixture
def files(tmp_path):
    return [str(make_audio(tmp_path / f"{name}.flac", 2.0, "drums"))
            for name in ("one", "crash-me", "two", "hang-me", "three")]


def test_pool_decodes_every_file(files):
    with DecodePool(FE, jobs=2) as pool:
        out = {d.path: d for d in pool.imap((p, None) for p in files)}
    assert set(out) == set(files)
    for d in out.values():
        assert d.error is None and d.spec.shape == (126, 96) and d.duration == pytest.approx(2.0)


def test_a_crashing_or_hanging_decoder_costs_only_its_file(files):
    with DecodePool(FE, jobs=2, timeout=10, analyse=fakedecoder.analyse) as pool:
        out = {d.path: d for d in pool.imap((p, None) for p in files)}
    errors = {p.rsplit("/", 1)[1]: d.error for p, d in out.items()}
    assert errors == {"one.flac": None, "two.flac": None, "three.flac": None,
                      "crash-me.flac": "decoder crashed (SIGSEGV)",
                      "hang-me.flac": "decoder timed out after 10 s"}


def test_fast_decodes_only_the_windows(tmp_path):
    path = str(make_audio(tmp_path / "long.ogg", 30.0, "drums"))
    d = analyse(path, FE, fast=4)
    assert d.error is None
    assert d.spec.shape == (4 * 187, 96)  # four chunks' worth, not 30 s
    assert d.duration == pytest.approx(30.0, abs=0.1)


def test_decode_errors_come_back_as_reasons(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF" + b"\0" * 10)
    d = analyse(str(bad), FE)
    assert d.spec is None and d.error


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
    from tagger import workers

    monkeypatch.setattr(workers, "BACKLOG_BYTES", 1)  # room for one result only
    files = [f for f in files if "-me" not in f] * 2
    with DecodePool(FE, jobs=1) as pool:
        results = pool.imap((p, None) for p in files)
        # One result waits, the worker holds the next (finished), the rest wait untouched.
        assert not _wait(lambda: not pool._thread.is_alive(), seconds=3.0)
        assert len(list(results)) == len(files)
