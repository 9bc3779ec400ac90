"""Make tests/data/musicnn_reference.npz with the ORIGINAL musicnn network.

The original graph code (musicnn 0.1.0's models.py, TF1 layers) needs the
legacy Keras 2 layers, so run this once in a separate environment:

    python -m venv --system-site-packages /tmp/refenv
    /tmp/refenv/bin/pip install 'tf_keras~=2.21.0'
    pip download --no-deps musicnn==0.1.0 -d /tmp/musicnn
    TF_USE_LEGACY_KERAS=1 /tmp/refenv/bin/python tests/data/make_musicnn_reference.py \
        /tmp/musicnn/musicnn-0.1.0-py3-none-any.whl

It builds musicnn's own `define_model(x, is_training, 'MSD_musicnn', 50)`,
restores the checkpoint with a TF1 Saver and stores a fixed log-mel input
(two 3 s chunks of a synthetic signal, musicnn's front-end without its
float16 cast) with the network's taggram, penultimate layer and pools.
"""

import sys
import tempfile
import zipfile
from pathlib import Path

import librosa
import numpy as np

wheel = Path(sys.argv[1])
tmp = Path(tempfile.mkdtemp())
zipfile.ZipFile(wheel).extractall(tmp)
sys.path.insert(0, str(tmp))

import tensorflow as tf  # noqa: E402

tf.compat.v1.disable_eager_execution()
from musicnn import models  # noqa: E402  (the original graph code)

sr, frames = 16000, 187
rng = np.random.default_rng(0)
t = np.arange(sr * 7) / sr
y = 0.3 * np.sin(2 * np.pi * (220 + 200 * t) * t) + 0.05 * rng.standard_normal(t.size)
y[:: sr // 4] += 0.8  # clicks every 250 ms
mel = librosa.feature.melspectrogram(y=y.astype(np.float32), sr=sr, hop_length=256, n_fft=512, n_mels=96).T
logmel = np.log10(10000 * mel + 1).astype(np.float32)
x_in = np.stack([logmel[:frames], logmel[150:150 + frames]])

x = tf.compat.v1.placeholder(tf.float32, [None, frames, 96])
is_training = tf.compat.v1.placeholder(tf.bool)
with tf.name_scope("model"):
    y_, timbral, temporal, cnn1, cnn2, cnn3, mean_pool, max_pool, penultimate = models.define_model(
        x, is_training, "MSD_musicnn", 50)
sess = tf.compat.v1.Session()
tf.compat.v1.train.Saver().restore(sess, str(tmp / "musicnn" / "MSD_musicnn") + "/")
tags, pen, mean_, max_ = sess.run([tf.nn.sigmoid(y_), penultimate, mean_pool, max_pool],
                                  feed_dict={x: x_in, is_training: False})
out = Path(__file__).with_name("musicnn_reference.npz")
np.savez_compressed(out, logmel=x_in, tags=tags, penultimate=pen, mean_pool=mean_, max_pool=max_)
print("wrote", out, tags.shape, pen.shape, mean_.shape, max_.shape)
