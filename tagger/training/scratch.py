"""The ``cnn`` and ``crnn`` architectures trained from scratch with Keras on
log-mel chunks: class weights, early stopping on held-out whole tracks."""

from __future__ import annotations

import numpy as np

from .dataset import Dataset, holdout
from ..audio.features import FrontEnd
from ..model.tfruntime import import_tensorflow
from .settings import Progress, Settings


def fit_scratch(arch: str, chunks: list[np.ndarray], y: np.ndarray, n_labels: int,
                fe: FrontEnd, settings: Settings, say: Progress = print):
    """Train a cnn / crnn on chunks, with class weights and early stopping on
    a validation set of whole tracks."""
    import_tensorflow(settings.verbose)
    import keras

    from ..model import network

    keras.utils.set_random_seed(settings.seed)
    data = Dataset([str(i) for i in range(len(y))], y, [str(i) for i in range(n_labels)])
    try:
        tr, va = holdout(data, 0.15, settings.seed)
    except ValueError:  # too few tracks to hold some out per label
        tr, va = np.arange(len(y)), np.arange(0)

    def stack(index):
        if len(index) == 0:
            return None, None
        return (np.concatenate([chunks[i] for i in index]),
                np.concatenate([np.full(len(chunks[i]), y[i]) for i in index]))

    Xtr, Ytr = stack(tr)
    Xva, Yva = stack(va)
    counts = np.bincount(Ytr, minlength=n_labels).astype(float)
    class_weight = {i: (len(Ytr) / (n_labels * counts[i]) if counts[i] else 0.0)
                    for i in range(n_labels)}
    model = getattr(network, arch)(n_labels, fe.chunk_frames, fe.n_mels)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = []
    if Xva is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=4, restore_best_weights=True))
    model.fit(Xtr, Ytr, validation_data=None if Xva is None else (Xva, Yva),
              epochs=settings.epochs, batch_size=32, class_weight=class_weight,
              callbacks=callbacks, verbose=2 if settings.verbose else 0)
    return model


def predict_scratch(model, chunks: list[np.ndarray]) -> list[np.ndarray]:
    return [model.predict(c, batch_size=64, verbose=0) for c in chunks]
