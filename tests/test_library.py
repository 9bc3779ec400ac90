import os

import pytest

from tagger.library import is_audio, walk


def names(tracks, root):
    return [os.path.relpath(t.path, root) for t in tracks]


def test_walk_finds_audio_recursively_in_a_stable_order(music):
    found = names(walk([music]), music)
    assert found == [
        "Jazz/Sub Folder/drums.ogg", "Jazz/Sub Folder/tone.opus", "Jazz/noise track.mp3",
        "Misc/aac tone.m4a",
        "Rock/Band – Album/01 ünïcode tone.wav", "Rock/Band – Album/02 drums.flac",
    ]
    assert found == names(walk([music]), music)


def test_walk_reports_size_and_mtime(music):
    track = next(walk([music / "Misc"]))
    st = os.stat(track.path)
    assert (track.size, track.mtime_ns) == (st.st_size, st.st_mtime_ns)


@pytest.mark.parametrize("name, expected", [
    ("a.MP3", True), ("b.FlAc", True), ("c.opus", True), ("d.aif", True), ("e.wv", True),
    ("f.txt", False), ("g.jpg", False), (".DS_Store", False), (".hidden.mp3", False),
    ("noextension", False), (".x.mp3.tagger-tmp-abc", False), ("x.cue", False),
])
def test_is_audio(name, expected):
    assert is_audio(name) is expected


def test_hidden_folders_are_skipped(music):
    assert not any(".hidden" in t.path for t in walk([music]))


def test_a_single_file_root(music):
    path = music / "Misc" / "aac tone.m4a"
    assert [t.path for t in walk([path])] == [str(path)]


def test_symlinked_folders_followed_only_when_asked_and_loops_once(music, tmp_path):
    outside = tmp_path / "elsewhere"
    (music / "Jazz").rename(outside)
    os.symlink(outside, music / "Jazz")
    os.symlink(music, music / "Misc" / "loop")  # a loop back to the root
    plain = names(walk([music]), music)
    assert not any(n.startswith("Jazz") for n in plain)
    followed = names(walk([music], follow_symlinks=True), music)
    assert [n for n in followed if n.startswith("Jazz")] == [
        "Jazz/Sub Folder/drums.ogg", "Jazz/Sub Folder/tone.opus", "Jazz/noise track.mp3"]
    assert len(followed) == len(set(followed)) == 6


def test_broken_symlink_and_missing_root_are_reported_not_raised(music, tmp_path):
    os.symlink(tmp_path / "nowhere.mp3", music / "broken.mp3")
    errors = []
    found = list(walk([music, tmp_path / "missing"], on_error=lambda p, r: errors.append((p, r))))
    assert len(found) == 6
    assert (str(music / "broken.mp3"), "broken symbolic link") in errors
    assert (str(tmp_path / "missing"), "No such file or directory") in errors


def test_is_under_counts_whole_path_components():
    from tagger.library import is_under

    assert is_under("/music/a/b.flac", "/music/a") and is_under("/music/a", "/music/a")
    assert is_under("/music/a/b.flac", "/music/a/") and is_under("/x.flac", "/")
    assert not is_under("/music/a b/c.flac", "/music/a") and not is_under("/music", "/music/a")
