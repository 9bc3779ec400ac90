"""Imported by the decode pool's forkserver: loads the decoders and computes
one log-mel, so that every worker forked from it starts warm (the first
librosa mel spectrogram in a fresh process costs over a second of imports
and set-up)."""

import numpy as np

from . import workers  # noqa: F401  (the decoders and their libraries)
from .features import FrontEnd, log_mel
from .constants import (MUSICNN_CHUNK_FRAMES, MUSICNN_CHUNK_HOP_FRAMES, MUSICNN_HOP, MUSICNN_N_FFT,
                        MUSICNN_N_MELS, MUSICNN_SAMPLE_RATE)

log_mel(np.zeros(MUSICNN_SAMPLE_RATE, np.float32),
        FrontEnd(MUSICNN_SAMPLE_RATE, MUSICNN_N_FFT, MUSICNN_HOP, MUSICNN_N_MELS,
                 MUSICNN_CHUNK_FRAMES, MUSICNN_CHUNK_HOP_FRAMES))
