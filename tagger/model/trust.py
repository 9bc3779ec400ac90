"""The rule that makes a verdict "unsure": a model's trust in its own top
genre, from the parameters its metadata.json holds (``card.ModelCard.trust``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Trust:
    """When a model's verdict is "unsure", from metadata.json's "unsure"
    (set by calibration.calibrate from cross-validated predictions):

    - its top confidence is below ``min_confidence``;
    - its distance to the nearest training track exceeds ``max_distance``:
      the track's mean chunk embedding, whitened along the training tracks'
      ``dims`` principal axes (the head's ``projection`` output), against
      every training track's point (``reference``); music unlike anything
      the model was trained on (speech, noise, tones) lies far away;
    - it is steady: its loudness varies by less than ``min_variation`` dB
      (inference.band_variation), as noise and hum do (brown noise and mains hum lie
      as near the training tracks as music does);
    - it is silent (inference.SILENT_LOGMEL).
    Everything comes from what the scan computes anyway: a few extra
    outputs of the head per chunk, a few numbers per track."""

    min_confidence: float = 0.0
    max_distance: float | None = None
    dims: int = 0
    points: int = 0
    min_variation: float | None = None  # dB

    @classmethod
    def from_dict(cls, u: dict | None) -> "Trust":
        """The rule as metadata.json's "unsure" holds it (None or {}: never unsure
        but for silence)."""
        u = u or {}
        return cls(float(u.get("min_confidence", 0.0)), u.get("max_distance"),
                   int(u.get("dims", 0)), int(u.get("points", 0)), u.get("min_variation"))

    def distance(self, projection: np.ndarray, reference: np.ndarray) -> float:
        """Distance to the nearest training track from the means over a
        track's chunks of the head's two reference outputs."""
        q, m = np.mean(projection, axis=0), np.mean(reference, axis=0)
        return float(np.sqrt(max(float(q @ q) - 2 * float(m.max()), 0.0)))

    def unsure(self, confidence: float, distance: float | None, silent: bool = False,
               variation: float | None = None) -> bool:
        far = (self.max_distance is not None and distance is not None
               and distance > self.max_distance)
        steady = (self.min_variation is not None and variation is not None
                  and variation < self.min_variation)
        return bool(silent or far or steady or confidence < self.min_confidence)
