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
    - it is unlike the music of the genre it would get (music of a genre
      the model has no label for): its distance to the nearest training
      track of that genre (``point_labels`` name each point's genre)
      exceeds that genre's ``max_genre_distance``, or its MSD tags
      (musicnn's own 50, the head's ``tags`` output, standardised) lie
      farther from that genre's training tracks' than its
      ``max_tag_distance``: the root mean square over the tags of the
      difference to the genre's mean, in units of its spread (``tag_centre``,
      ``tag_spread``);
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
    point_labels: tuple[int, ...] | None = None  # genre of each reference point
    max_genre_distance: tuple[float, ...] | None = None  # per genre
    tag_centre: tuple[tuple[float, ...], ...] | None = None  # (n_labels, 50)
    tag_spread: tuple[tuple[float, ...], ...] | None = None  # (n_labels, 50)
    max_tag_distance: tuple[float, ...] | None = None  # per genre

    @classmethod
    def from_dict(cls, u: dict | None) -> "Trust":
        """The rule as metadata.json's "unsure" holds it (None or {}: never unsure
        but for silence; without the per-genre entries, as before issue 24,
        no per-genre limits)."""
        u = u or {}
        vector = lambda k, kind=float: (  # noqa: E731
            None if u.get(k) is None else tuple(map(kind, u[k])))
        matrix = lambda k: (  # noqa: E731
            None if u.get(k) is None else tuple(tuple(map(float, row)) for row in u[k]))
        return cls(float(u.get("min_confidence", 0.0)), u.get("max_distance"),
                   int(u.get("dims", 0)), int(u.get("points", 0)), u.get("min_variation"),
                   vector("point_labels", int), vector("max_genre_distance"),
                   matrix("tag_centre"), matrix("tag_spread"), vector("max_tag_distance"))

    def distance(self, projection: np.ndarray, reference: np.ndarray,
                 genre: int | None = None) -> float:
        """Distance to the nearest training track (of ``genre``, if given)
        from the means over a track's chunks of the head's two reference
        outputs."""
        q, m = np.mean(projection, axis=0), np.mean(reference, axis=0)
        if genre is not None:
            m = m[np.asarray(self.point_labels) == genre]
        return float(np.sqrt(max(float(q @ q) - 2 * float(m.max(initial=-np.inf)), 0.0)))

    def tag_distance(self, tags: np.ndarray, genre: int) -> float:
        """How far a track's MSD tags (the head's ``tags`` output, per
        chunk) lie from those of ``genre``'s training tracks: the root mean
        square of (mean tags - tag_centre) / tag_spread."""
        z = ((np.mean(tags, axis=0) - np.asarray(self.tag_centre[genre]))
             / np.asarray(self.tag_spread[genre]))
        return float(np.sqrt(np.mean(z ** 2)))

    def evidence(self, outputs: dict[str, np.ndarray], genre: int) -> dict[str, float]:
        """The distances a verdict needs from the head's outputs on a
        track's chunks (``projection``, ``reference``, ``tags``; any may be
        missing), for the genre it would get."""
        out = {}
        if "projection" in outputs:
            out["distance"] = self.distance(outputs["projection"], outputs["reference"])
            if self.point_labels is not None:
                out["genre_distance"] = self.distance(outputs["projection"],
                                                      outputs["reference"], genre)
        if "tags" in outputs and self.tag_centre is not None:
            out["tag_distance"] = self.tag_distance(outputs["tags"], genre)
        return out

    def unsure(self, confidence: float, distance: float | None, silent: bool = False,
               variation: float | None = None, genre: int | None = None,
               genre_distance: float | None = None, tag_distance: float | None = None) -> bool:
        far = (self.max_distance is not None and distance is not None
               and distance > self.max_distance)
        steady = (self.min_variation is not None and variation is not None
                  and variation < self.min_variation)
        return bool(silent or far or steady or confidence < self.min_confidence
                    or self._beyond(self.max_genre_distance, genre, genre_distance)
                    or self._beyond(self.max_tag_distance, genre, tag_distance))

    @staticmethod
    def _beyond(limits: tuple[float, ...] | None, genre: int | None, value: float | None) -> bool:
        return (limits is not None and genre is not None and value is not None
                and value > limits[genre])
