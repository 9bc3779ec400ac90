import numpy as np
import pytest

from audiofiles import make_audio, signal
from tagger.audio.decode import load_audio, stream_audio, truncation
from tagger.errors import DecodeError

SR = 16_000


@pytest.mark.parametrize("name, codec", [
    ("a.wav", None), ("a.flac", None), ("a.mp3", None), ("a.ogg", None), ("a.opus", None),
    ("a.m4a", "aac"), ("b.m4a", "alac"), ("a.aiff", None), ("a.wma", None), ("a.wv", None),
])
def test_every_format_decodes_to_mono_float32_at_the_requested_rate(tmp_path, name, codec):
    path = make_audio(tmp_path / name, 2.0, "tone", codec=codec, channels=2)
    y = load_audio(path, SR)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 2 * SR) < 0.06 * SR  # encoders pad a little
    # A 440 Hz tone: the spectrum peaks there, whatever the codec.
    spectrum = np.abs(np.fft.rfft(y[SR // 4: SR // 4 + SR]))
    assert abs(np.argmax(spectrum) - 440) <= 2


def test_lossless_decode_matches_the_samples(tmp_path):
    path = make_audio(tmp_path / "a.flac", 1.0, "noise", sample_rate=SR)
    expected = signal(1.0, "noise", sample_rate=SR)[:, 0]
    np.testing.assert_allclose(load_audio(path, SR), expected, atol=1 / 2 ** 15)


@pytest.mark.parametrize("name", ["a.wav", "a.mp3", "a.m4a", "a.opus", "a.ogg"])
def test_offset_and_duration_decode_only_a_window(tmp_path, name):
    path = make_audio(tmp_path / name, 4.0, "tone")
    y = load_audio(path, SR, offset=1.0, duration=1.5)
    assert abs(len(y) - 1.5 * SR) < 0.02 * SR  # AAC seeks land a few ms late


def test_awkward_file_names_reach_the_decoder_as_names(tmp_path):
    # A leading dash, a colon (ffmpeg protocol syntax) and shell syntax.
    path = make_audio(tmp_path / "-x $(echo hi) a:b.m4a", 1.0, codec="aac")
    assert len(load_audio(path, SR)) > 0.9 * SR


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(DecodeError) as e:
        load_audio(path, SR)
    assert str(e.value) == f"{path}: empty file (0 bytes)"


@pytest.mark.parametrize("name", ["random.mp3", "random.flac", "random.m4a", "text.ogg"])
def test_not_audio(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(0).bytes(5000) if "random" in name else b"hello\n" * 50)
    with pytest.raises(DecodeError) as e:
        load_audio(path, SR)
    assert e.value.path == str(path)
    assert e.value.reason


def test_missing_file(tmp_path):
    with pytest.raises(DecodeError, match="No such file"):
        load_audio(tmp_path / "gone.wav", SR)


@pytest.mark.parametrize("name", ["a.flac", "a.ogg", "a.mp3", "a.opus", "a.m4a"])
def test_streaming_gives_the_whole_decode_in_pieces(tmp_path, name):
    path = make_audio(tmp_path / name, 5.0, "noise", channels=2)
    pieces = list(stream_audio(path, SR, 1.5))
    whole = load_audio(path, SR)
    assert len(pieces) >= 3 and all(p.dtype == np.float32 and p.ndim == 1 for p in pieces)
    joined = np.concatenate(pieces)
    assert abs(len(joined) - len(whole)) <= 32
    n = min(len(joined), len(whole))
    # One resampler over the whole stream: no seams between the pieces.
    np.testing.assert_allclose(joined[64: n - 64], whole[64: n - 64], atol=2e-3)


def test_streaming_bad_input_names_the_file(tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    text = tmp_path / "notes.ogg"
    text.write_text("not audio at all\n" * 100)
    for path, reason in ((empty, "empty file"), (text, "not an audio file")):
        with pytest.raises(DecodeError) as e:
            list(stream_audio(path, SR, 1.0))
        assert str(path) in str(e.value) and reason in str(e.value)


def test_streaming_a_truncated_file_keeps_what_it_holds(tmp_path):
    path = make_audio(tmp_path / "a.mp3", 6.0, "noise")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    seconds = sum(len(p) for p in stream_audio(cut, SR, 1.0)) / SR
    assert 2.0 < seconds < 4.0


@pytest.mark.parametrize("made, named", [
    ("a.aac", "adts-aac.mp3"),  # AAC in ADTS frames
    ("a.m4a", "m4a-aac.mp3"),  # AAC in MP4
    ("a.mp3", "mp3.flac"), ("a.mp3", "mp3.wav"), ("a.flac", "flac.mp3"), ("a.wav", "wav.ogg"),
])
def test_the_decoder_follows_the_content_not_the_extension(tmp_path, made, named):
    """Real AAC files named .mp3 were decoded by libsndfile as 0.05 s of noise."""
    codec = "aac" if made.endswith((".aac", ".m4a")) else None
    path = make_audio(tmp_path / made, 4.0, "tone", codec=codec).rename(tmp_path / named)
    y = load_audio(path, SR)
    assert abs(len(y) / SR - 4.0) < 0.1
    spectrum = np.abs(np.fft.rfft(y[SR // 4: SR // 4 + SR]))
    assert abs(np.argmax(spectrum) - 440) <= 2


@pytest.mark.parametrize("decoded, declared, reason", [
    (0.2, 250.0, "truncated: 0.2 s of the 4 min 10 s its header declares"),
    (30.0, 60.0, "truncated: 30 s of the 1 min 0 s its header declares"),
    (3599.0, 7200.0, "truncated: 59 min 59 s of the 2 h 0 min its header declares"),
    (19.969, 20.015, None),  # WMA's header rounding
    (53.0, 60.0, None),  # within 10 % and 1 s
    (5.0, None, None),  # the header does not say
])
def test_truncation(decoded, declared, reason):
    assert truncation(decoded, declared) == reason


def _id3v2(major: int, body: bytes, footer: bool = False) -> bytes:
    """An ID3v2 tag: header (flag 0x10: a footer follows), ``body``, footer."""
    size = bytes((len(body) >> (7 * i)) & 0x7F for i in (3, 2, 1, 0))  # syncsafe
    flags = 0x10 if footer else 0
    return (b"ID3" + bytes([major, 0, flags]) + size + body
            + (b"3DI" + bytes([major, 0, flags]) + size if footer else b""))


def test_the_content_is_sniffed_past_every_id3v2_tag_in_front(tmp_path):
    """Windows Media Player writes several ID3v2 tags before the audio; a
    v2.4 tag may end in a 10-byte footer."""
    from tagger.audio.decode import _sniff

    flac = make_audio(tmp_path / "a.flac", 2.0).read_bytes()
    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes(_id3v2(4, b"\0" * 300, footer=True) + _id3v2(3, b"\0" * 50) + flac)
    assert _sniff(str(tagged)) == "flac"
    assert abs(len(load_audio(tagged, SR)) / SR - 2.0) < 0.1
