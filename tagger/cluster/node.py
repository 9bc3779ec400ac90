"""What runs on a Ray cluster's nodes for ``tagger scan --ray`` (cluster.py
schedules it): the decode task, through a one-process DecodePool so a crash
or hang costs one file, and the network actor that loads the driver's model
once. No Ray import here: cluster.py wraps these with ``ray.remote``."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from ..audio.analysis import Decoded
from ..audio.features import FrontEnd
from ..audio.workers import DecodePool

_POOLS: dict[tuple, DecodePool] = {}


def decode_group(tasks: list[tuple[str, str | None, int | None]], fe_dict: dict,
                  timeout: float, verbose: bool, *shipped: bytes) -> list[Decoded]:
    """A Ray task: decode a group of files in this worker's DecodePool (one
    process, kept for the next task), so a crash or a hang costs one file.
    Shipped files are written to a temp folder under their own name, so the
    decoder and the tag reader see the same extension."""
    key = (tuple(sorted(fe_dict.items())), timeout, verbose)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = DecodePool(FrontEnd.from_dict(fe_dict), 1, timeout, verbose)
    tmp = tempfile.mkdtemp(prefix="tagger-shipped-") if shipped else None
    try:
        local_of, jobs = {}, []
        data = iter(shipped)
        for i, (local, remote, fast) in enumerate(tasks):
            if remote is None:
                remote = os.path.join(tmp, str(i), os.path.basename(local))
                os.makedirs(os.path.dirname(remote))
                with open(remote, "wb") as f:
                    f.write(next(data))
            local_of[remote] = local
            jobs.append((remote, fast))
        return [replace(d, path=local_of[d.path]) for d in pool.imap(jobs)]
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


class Classifier:
    """A Ray actor: the model, loaded once from the driver's model files, runs
    the network on decoded groups as a local scan does (``model.batches.predict``)."""

    def __init__(self, device: str, files: dict[str, bytes], precision: str, fe_dict: dict,
                 fast: bool, verbose: bool):
        from ..model.inference import GenreModel

        self._dir = tempfile.mkdtemp(prefix="tagger-model-")
        for name, data in files.items():
            Path(self._dir, name).write_bytes(data)
        self.model = GenreModel(self._dir, device, verbose, precision)
        self.fe, self.fast = FrontEnd.from_dict(fe_dict), fast

    def classify(self, decoded: list[Decoded]) -> list[tuple[Decoded, object]]:
        from ..model.batches import predict

        # Spectrograms stay here: the driver gets the predictions.
        return [(replace(item, spec=None), pred)
                for item, pred in predict(self.model, decoded, self.fe, self.fast)]

    def __del__(self):
        shutil.rmtree(getattr(self, "_dir", ""), ignore_errors=True)
