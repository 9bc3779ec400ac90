"""Byte-level tag editors for what mutagen would lay out anew: ID3v2/ID3v1
frames (``id3``), APEv2 items (``ape``), WAV LIST/INFO (``riff``).

Private to ``tags`` (``audio.decode`` reads ID3 header sizes to sniff).
"""
