"""The length a file's headers give, from its parsed mutagen object, and
whether they state it or only estimate it.

The decoder compares it with what it decodes, to tell a file cut short (an
interrupted download) from a short track (``audio.decode.truncation``).
"""

from __future__ import annotations

import os
import struct

from mutagen.mp3 import BitrateMode, MPEGInfo
from mutagen.wave import WaveStreamInfo

# RIFF sizes a writer leaves when it cannot seek back (streamed WAV): unknown.
_UNKNOWN_RIFF_SIZES = (0, 0xFFFFFFFF)


def header_length(audio, path: str | os.PathLike) -> tuple[float | None, bool]:
    """(length in s from the headers of ``audio``, the file ``path`` parsed by
    mutagen (None: unreadable), or None; whether the header declares it) -
    False when it is only an estimate (an MP3 without a Xing/VBRI frame
    count: file size / first bitrate; a WAV whose data size was never filled
    in, as a streaming writer leaves it)."""
    info = getattr(audio, "info", None)
    length = getattr(info, "length", None)
    if not length or length <= 0:
        return None, False
    declared = True
    if isinstance(info, MPEGInfo):
        declared = info.bitrate_mode != BitrateMode.UNKNOWN  # set from Xing/VBRI only
    elif isinstance(info, WaveStreamInfo):
        declared = _riff_data_size(os.fspath(path)) not in _UNKNOWN_RIFF_SIZES
    return float(length), declared


def _riff_data_size(path: str) -> int | None:
    """The size field of a WAV file's ``data`` chunk; None when not found."""
    try:
        with open(path, "rb") as f:
            f.seek(12)
            while len(header := f.read(8)) == 8:
                chunk, size = header[:4], struct.unpack("<I", header[4:])[0]
                if chunk == b"data":
                    return size
                f.seek(size + (size & 1), 1)
    except OSError:
        return None
    return None
