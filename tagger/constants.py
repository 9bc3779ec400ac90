"""Constants, defined once and derived from each other, with units."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "tagger"

# Audio files by extension (lower case, without the dot).
AUDIO_EXTENSIONS = frozenset(
    "mp3 flac ogg oga opus m4a mp4 aac wav aif aiff wma wv ape mpc".split())

PACKAGE_DIR = Path(__file__).resolve().parent
# The shipped models: the repository's top-level models/, which pyproject.toml
# installs as the package tagger.models (so tagger/models/ in a wheel or any
# non-editable install). A source tree (an editable install, a clone on
# PYTHONPATH) has no tagger/models/ and uses models/ beside the package, so a
# clone always runs with its own models.
MODELS_DIR = (PACKAGE_DIR / "models" if (PACKAGE_DIR / "models").is_dir()
              else PACKAGE_DIR.parent / "models")
DEFAULT_MODEL_DIR = MODELS_DIR / "default"
MUSICNN_WEIGHTS = MODELS_DIR / "musicnn" / "msd_musicnn.weights.h5"

# The musicnn front-end (musicnn/configuration.py): 16 kHz, 512-sample FFT,
# 256-sample hop (16 ms), 96 mel bands, 3 s chunks.
MUSICNN_SAMPLE_RATE = 16_000  # Hz
MUSICNN_N_FFT = 512  # samples = 32 ms
MUSICNN_HOP = 256  # samples = 16 ms
MUSICNN_N_MELS = 96  # mel bands
MUSICNN_CHUNK_SECONDS = 3  # s
# frames = 187: musicnn/extractor.py takes librosa.time_to_frames(3 s) + 1,
# i.e. (3 s * 16000 Hz - 512 / 2 samples) // 256 samples + 1 = 186 + 1.
MUSICNN_CHUNK_FRAMES = ((MUSICNN_CHUNK_SECONDS * MUSICNN_SAMPLE_RATE - MUSICNN_N_FFT // 2)
                        // MUSICNN_HOP + 1)
# frames = 94 (~1.5 s): half a chunk, rounded up, so that chunks overlap by half.
MUSICNN_CHUNK_HOP_FRAMES = -(-MUSICNN_CHUNK_FRAMES // 2)
# A track's mean chunk embedding as a scan keeps it for training (store.embeddings):
# little-endian float16, 1706 values = 3.4 kB a track.
EMBEDDING_DTYPE = "<f2"

# The from-scratch networks' chunks: 4 s with a 2 s hop at the same front-end.
SCRATCH_CHUNK_SECONDS = 4  # s
SCRATCH_CHUNK_FRAMES = SCRATCH_CHUNK_SECONDS * MUSICNN_SAMPLE_RATE // MUSICNN_HOP  # frames = 250
SCRATCH_CHUNK_HOP_FRAMES = SCRATCH_CHUNK_FRAMES // 2  # frames = 125 = 2 s
DEFAULT_EPOCHS = 30  # cnn / crnn training: at most this many epochs; early stopping ends sooner

# Less audio than this share of the model's chunk (3 s for musicnn, so
# 1.5 s) is no track to judge: a shorter one fills its only chunk by being
# repeated more than twice, and the network hears a loop, not music.
MIN_CHUNK_SHARE = 0.5

# Inference batches: chunks per network call (large batches suit a GPU).
BATCH_CHUNKS = 64  # chunks

# How long one file may take to decode before its worker is killed (the
# default of scan --timeout).
DEFAULT_TIMEOUT = 300.0  # s

# Cheap content fingerprint: this many bytes from the start, middle and end.
FINGERPRINT_BLOCK = 64 * 1024  # bytes

# A tag write's hidden files beside the audio file carry one of these in their
# names: a temp file (a backup being copied; always garbage once its writer is
# gone) and a complete backup of the file being edited (kept until the edit is
# on disk, or restored into the file after a kill).
TEMP_MARKER = ".tagger-tmp-"
BACKUP_MARKER = ".tagger-backup-"
