import os
import shutil

import numpy as np
import pytest

from tagger.audio import chunks
from tagger.store.cache import Cache
from tagger.constants import DEFAULT_MODEL_DIR
from tagger.model.card import read_card
from tagger.pipeline import Scan, ScanOptions

OPTIONS = ScanOptions(jobs=2, device="cpu")
FE = read_card(DEFAULT_MODEL_DIR).frontend  # the shipped model's


def scan(music, db, **kw):
    run = Scan([music], Cache(db), ScanOptions(**{**OPTIONS.__dict__, **kw}))
    return run, list(run)


def test_scan_analyses_every_format_then_a_second_scan_decodes_nothing(music, db, monkeypatch):
    run, results = scan(music, db)
    assert run.stats.found == 6 and run.stats.analysed == 6 and run.stats.failed == 0
    for r in results:
        assert r.status == "ok", r.error
        assert len(r.genres) == 11
        assert 0 <= r.genres[0][1] <= 1
        assert r.genres[0][1] == max(c for _, c in r.genres)
        assert sum(c for _, c in r.genres) == pytest.approx(1, abs=1e-4)
        assert r.duration == pytest.approx(4.0, abs=0.1)

    monkeypatch.setattr(chunks, "DecodePool", None)  # any decode would raise
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
    monkeypatch.setattr(chunks, "DecodePool", None)  # any decode would raise
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


def test_chunks_of_several_tracks_are_predicted_as_if_one_by_one():
    from tagger.audio.features import chunked
    from tagger.model.inference import GenreModel

    rng = np.random.default_rng(0)
    tracks = [chunked(rng.uniform(0, 3, (n, FE.n_mels)).astype(np.float32), FE)
              for n in (900, 150, 2000)]
    model = GenreModel(device="cpu")
    together = model.predict_chunked(tracks, batch=16)
    alone = np.concatenate([model.predict_chunked([t]) for t in tracks])
    assert together.shape == (sum(map(len, tracks)), 11)
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_the_same_file_typed_relative_or_absolute_is_one_cache_entry(music, db, monkeypatch):
    monkeypatch.chdir(music)
    scan("Misc", db)
    run, results = scan(music / "Misc", db)
    assert (run.stats.analysed, run.stats.cached) == (0, 1)
    assert results[0].path == str(music / "Misc" / "aac tone.m4a")


def test_silence_is_unsure_in_the_cache_the_report_and_the_table(tmp_path, db):
    from audiofiles import make_audio
    from rich.console import Console

    from tagger.report.render import record, table

    folder = tmp_path / "quiet"
    folder.mkdir()
    make_audio(folder / "silence.flac", 5.0, "silence")
    _, (result,) = scan(folder, db)
    assert result.status == "ok" and result.unsure
    _, (cached,) = scan(folder, db)
    assert cached.from_cache and cached.unsure and cached.genres == result.genres
    rec = record(cached)
    assert rec["unsure"] is True
    console = Console(width=200, record=True)
    console.print(table([rec]))
    g = result.genres
    assert (f"unsure ({g[0][0]} {g[0][1]:.0%}, {g[1][0]} {g[1][1]:.0%})".replace("%", " %")
            in console.export_text())


def test_a_scan_parses_each_analysed_file_once_with_mutagen(music, db, monkeypatch):
    """Once in its decode worker (header length, genres and album: four
    parses before), and never in the main process."""
    from functools import partial

    import parsecount

    monkeypatch.setattr(chunks, "DecodePool", partial(chunks.DecodePool, analyse=parsecount.analyse))
    (run, _), in_main = parsecount.counting(scan, music, db)
    assert run.stats.analysed == 6 and in_main == 0
    assert [r.album for r in run.cache.results()] == ["parses=1"] * 6


def test_a_file_too_short_to_judge_is_an_unsure_result_kept_in_the_cache(tmp_path, db, monkeypatch):
    """A 1 s jingle and a 0.2 s sound effect: ok, unsure with the reason,
    no genres (the model is not asked), counted as analysed, not failed."""
    from audiofiles import make_audio

    folder = tmp_path / "short"
    folder.mkdir()
    make_audio(folder / "jingle.wav", 1.0, "drums")
    make_audio(folder / "effect.flac", 0.2, "noise", metadata={"album": "Sounds", "genre": "FX"})
    run, results = scan(folder, db)
    assert (run.stats.analysed, run.stats.failed) == (2, 0)
    got = {os.path.basename(r.path): (r.status, r.unsure, r.unsure_reason, r.genres, r.album,
                                      r.current_genres) for r in results}
    assert got == {"jingle.wav": ("ok", True, "too short to judge: 1.0 s", [], None, []),
                   "effect.flac": ("ok", True, "too short to judge: 0.2 s", [], "Sounds", ["FX"])}
    monkeypatch.setattr(chunks, "DecodePool", None)  # any decode would raise
    again, cached = scan(folder, db)
    assert (again.stats.cached, again.stats.failed) == (2, 0)
    assert {os.path.basename(r.path): (r.status, r.unsure, r.unsure_reason, r.genres, r.album,
                                       r.current_genres) for r in cached} == got


def test_identical_files_are_decoded_once(tmp_path, db, decoded):
    """Three clips, each with two hard links and a copy in another folder:
    three decodes; every other file takes its twin's result. A later copy
    takes it from the cache."""
    from audiofiles import make_audio

    lib = tmp_path / "lib"
    (lib / "Album").mkdir(parents=True)
    (lib / "Compilation").mkdir()
    for i, kind in enumerate(("tone", "drums", "noise")):
        clip = make_audio(lib / "Album" / f"{i}.flac", 4.0, kind)
        os.link(clip, lib / "Album" / f"{i} link.flac")
        os.link(clip, lib / "Compilation" / f"{i} link.flac")
        shutil.copyfile(clip, lib / "Compilation" / f"{i} copy.flac")
    run, results = scan(lib, db)
    assert len(decoded) == 3 and len(set(decoded)) == 3
    assert (run.stats.found, run.stats.analysed, run.stats.duplicates) == (12, 3, 9)
    by_clip = {}
    for r in results:
        assert r.status == "ok" and len(r.genres) == 11
        by_clip.setdefault(os.path.basename(r.path)[0], []).append(r.genres)
    assert sorted(by_clip) == ["0", "1", "2"]
    assert all(len(g) == 4 and g.count(g[0]) == 4 for g in by_clip.values())
    assert {r.path for r in results} == {str(p) for p in lib.rglob("*.flac")}

    shutil.copyfile(lib / "Album" / "1.flac", lib / "Compilation" / "1 again.flac")
    decoded.clear()
    again, results = scan(lib, db)
    assert decoded == []
    assert (again.stats.cached, again.stats.duplicates, again.stats.analysed) == (12, 1, 0)
    (new,) = [r for r in results if r.path.endswith("1 again.flac")]
    assert new.genres == by_clip["1"][0]
    assert Cache(db).results([new.path])[0].genres == new.genres  # cached under its own path


def test_a_file_named_twice_is_one_result_not_its_own_duplicate(tmp_path, db, decoded):
    from audiofiles import make_audio

    clip = make_audio(tmp_path / "a.flac", 2.0, "drums")
    run = Scan([clip, clip], Cache(db), OPTIONS)
    assert [r.path for r in run] == [str(clip)]
    assert (run.stats.analysed, run.stats.duplicates, decoded) == (1, 0, [str(clip)])
