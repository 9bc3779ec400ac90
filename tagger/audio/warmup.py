"""Imported by the decode pool's forkserver: loads the decoders and computes
one log-mel, so that every worker forked from it starts warm (the first
librosa mel spectrogram in a fresh process costs over a second of imports
and set-up)."""

import numpy as np

from . import workers  # noqa: F401  (the decoders and their libraries)
from .features import MUSICNN_FRONTEND, log_mel

log_mel(np.zeros(MUSICNN_FRONTEND.sample_rate, np.float32), MUSICNN_FRONTEND)  # 1 s
