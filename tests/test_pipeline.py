import os
import shutil

import pytest

from tagger import pipeline
from tagger.cache import Cache
from tagger.pipeline import Scan, ScanOptions

OPTIONS = ScanOptions(jobs=2, device="cpu")


def scan(music, db, **kw):
    run = Scan([music], Cache(db), ScanOptions(**{**OPTIONS.__dict__, **kw}))
    return run, list(run)


def test_scan_analyses_every_format_then_a_second_scan_decodes_nothing(music, db, monkeypatch):
    run, results = scan(music, db)
    assert run.stats.found == 6 and run.stats.analysed == 6 and run.stats.failed == 0
    for r in results:
        assert r.status == "ok", r.error
        assert len(r.genres) == 10
        assert 0 <= r.genres[0][1] <= 1
        assert r.genres[0][1] == max(c for _, c in r.genres)
        assert sum(c for _, c in r.genres) == pytest.approx(1, abs=1e-4)
        assert r.duration == pytest.approx(4.0, abs=0.1)

    monkeypatch.setattr(pipeline, "DecodePool", None)  # any decode would raise
    again, results2 = scan(music, db)
    assert (again.stats.analysed, again.stats.cached) == (0, 6)
    assert {r.path: r.genres for r in results2} == {r.path: r.genres for r in results}


def test_an_interrupted_scan_resumes_with_only_the_rest(music, db):
    run = Scan([music], Cache(db), OPTIONS)
    first = []
    for result in run:
        first.append(result.path)
        if len(first) == 2:
            break  # what Ctrl-C or a kill does: stop between results
    resumed, results = scan(music, db)
    assert resumed.stats.cached == 2 and resumed.stats.analysed == 4
    assert {r.path for r in results if not r.from_cache} == \
        {t.path for t in resumed.tracks} - set(first)


def test_changed_files_are_analysed_again_and_force_redoes_all(music, db):
    scan(music, db)
    target = music / "Jazz" / "noise track.mp3"
    os.utime(target, ns=(1, 1))
    run, _ = scan(music, db)
    assert (run.stats.analysed, run.stats.cached) == (1, 5)
    run, _ = scan(music, db, force=True)
    assert (run.stats.analysed, run.stats.cached) == (6, 0)


def test_a_moved_file_is_not_analysed_again(music, db, monkeypatch):
    scan(music, db)
    monkeypatch.setattr(pipeline, "DecodePool", None)  # any decode would raise
    shutil.move(music / "Misc" / "aac tone.m4a", music / "Rock" / "renamed.m4a")
    run, results = scan(music, db)
    assert (run.stats.analysed, run.stats.cached) == (0, 6)
    assert str(music / "Rock" / "renamed.m4a") in {r.path for r in results}
    cached = {r.path for r in Cache(db).results()}
    assert str(music / "Misc" / "aac tone.m4a") not in cached
    assert str(music / "Rock" / "renamed.m4a") in cached


def test_bad_files_are_rows_with_reasons_and_the_scan_goes_on(music, db):
    (music / "Jazz" / "empty.flac").write_bytes(b"")
    (music / "Jazz" / "text.mp3").write_text("hello " * 100)
    os.symlink(music / "nowhere.ogg", music / "Jazz" / "broken.ogg")
    run, results = scan(music, db)
    errors = {os.path.basename(r.path): r.error for r in results if r.status == "error"}
    assert errors == {"empty.flac": "empty file (0 bytes)",
                      "text.mp3": "not an audio file, or a format ffmpeg cannot read",
                      "broken.ogg": "broken symbolic link"}
    assert run.stats.analysed == 6 and run.stats.failed == 3


def test_fast_scan_gives_results_for_every_file(music, db):
    run, results = scan(music, db, fast=True)
    assert run.stats.analysed == 6
    assert all(r.status == "ok" and r.genres for r in results)


def test_batches_group_short_tracks_and_pass_failures_alone():
    import numpy as np

    from tagger.workers import Decoded

    items = [(Decoded("a"), np.zeros((30, 1, 1))), (Decoded("b", error="x"), None),
             (Decoded("c"), np.zeros((40, 1, 1))), (Decoded("d"), np.zeros((5, 1, 1)))]
    groups = [[d.path for d, _ in g] for g in pipeline.batches(items, min_chunks=64)]
    assert groups == [["b"], ["a", "c"], ["d"]]
