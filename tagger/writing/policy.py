"""What ``--write`` would do with each file, under the user's policy.

``decide`` is pure: one ``TrackResult``, the file's current genres and a
``WritePolicy`` in, a ``Decision`` out. ``plan`` runs it over a whole scan,
reading each file's current genres again and applying album consensus, and
returns a ``Plan``. ``WritePolicy.from_config`` builds the policy from the
user's config file (config.load_config) with CLI options overriding it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import tags
from ..results import Action, TrackResult
from ..errors import TagError, TaggerError

UNSURE_NAMED = 2  # candidates an "unsure" reason names

EXISTING_MODES = ("keep", "merge", "overwrite")

# GTZAN labels -> the names written into tags. The config's [display_names]
# table changes or adds entries; an unlisted label is written as it is.
DEFAULT_DISPLAY_NAMES = {
    "blues": "Blues", "classical": "Classical", "country": "Country",
    "disco": "Disco", "electronic": "Electronic", "hiphop": "Hip-Hop", "jazz": "Jazz", "metal": "Metal",
    "pop": "Pop", "reggae": "Reggae", "rock": "Rock",
}

# Used when neither the config nor the command line sets min_confidence.
DEFAULT_MIN_CONFIDENCE = 0.5  # probability, 0..1

@dataclass(frozen=True)
class WritePolicy:
    """The user's rules for writing genres.

    min_confidence: a predicted genre is written only at or above this (0..1).
    top_k: write up to this many genres, each passing min_confidence.
    existing: a file that already has genres is kept as it is ("keep"), gets
        the union ("merge": existing first, case-insensitive dedupe) or is
        replaced ("overwrite").
    display_names: label -> tag text; the full table (defaults above).
    album_consensus: give all of an album's tracks its majority genre.
    include / exclude: fnmatch globs on the full path; with include set only
        matching files are written; exclude wins over include.
    """

    min_confidence: float
    top_k: int = 1
    existing: str = "keep"
    display_names: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_DISPLAY_NAMES))
    album_consensus: bool = False
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            try:
                check_option(f.name, getattr(self, f.name))
            except ValueError as e:
                raise TaggerError(str(e)) from None

    @classmethod
    def from_config(cls, config: dict, **overrides) -> WritePolicy:
        """A policy from ``load_config()``'s dict; non-None ``overrides`` (the CLI's
        options) win. ``display_names`` entries are added to the defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise TypeError(f"unknown policy options: {', '.join(sorted(unknown))}")
        values = {"min_confidence": DEFAULT_MIN_CONFIDENCE}
        values.update({k: v for k, v in config.items() if k in names})
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["display_names"] = {**DEFAULT_DISPLAY_NAMES,
                                   **values.get("display_names", {})}
        return cls(**values)

    def display(self, label: str) -> str:
        """The tag text for a model label."""
        return self.display_names.get(label) or self.display_names.get(
            label.lower(), label)

    def excluded_by(self, path: str | os.PathLike) -> str | None:
        """Why ``path`` is filtered out, or None when it is included."""
        text = os.fspath(path)
        for pattern in self.exclude:
            if fnmatch.fnmatch(text, pattern):
                return f"matches exclude pattern {pattern!r}"
        if self.include and not any(fnmatch.fnmatch(text, p) for p in self.include):
            return "matches no include pattern"
        return None


@dataclass(frozen=True)
class Decision:
    """What to do with one file: an ``Action``, the genres to write
    (empty unless the action is "write"), and a reason for the report."""

    action: Action
    genres_to_write: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class PlanEntry:
    """One file of a plan: its result (``current_genres`` as read when
    planning), the decision, and the album consensus labels it got, if any.
    ``chosen``: a person made the decision (``choices.plan_choices``), so no
    policy may remake it: the writer skips the file if its genres changed."""

    result: TrackResult
    decision: Decision
    album_genres: list[str] | None = None
    chosen: bool = False


@dataclass(frozen=True)
class Plan:
    """What a write would do with each result, under ``policy``."""

    entries: list[PlanEntry]
    policy: WritePolicy

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def to_write(self) -> list[PlanEntry]:
        """The entries whose action is "write"."""
        return [e for e in self.entries if e.decision.action == Action.WRITE]


def decide(result: TrackResult, current_genres: list[str] | None, policy: WritePolicy,
           *, album_genres: list[str] | None = None) -> Decision:
    """Decide what ``--write`` does with one file.

    ``current_genres`` are the file's genres now (None or [] when it has none).
    ``album_genres`` (labels, from ``album_consensus``) replace the track's own
    prediction when given. Checks, in order: include/exclude, classification
    error, format support, an unsure result (never written), threshold, then
    the ``existing`` mode; a file that would end up with exactly its current
    genres is "unchanged".
    """
    path = result.path
    why_excluded = policy.excluded_by(path)
    if why_excluded:
        return Decision(Action.EXCLUDED, [], why_excluded)
    if result.status != "ok":
        return Decision(Action.ERROR, [], result.error or "classification failed")
    if not tags.supports(path):
        ext = Path(path).suffix.lower() or "(no extension)"
        return Decision(Action.UNSUPPORTED, [], f"tagger cannot write genre tags to {ext} files")
    if result.unsure and result.unsure_reason:
        return Decision(Action.UNSURE, [], result.unsure_reason)
    if result.unsure:
        named = _ranked(result.genres)[:UNSURE_NAMED]
        best = ", ".join(f"{g} {c:.2f}" for g, c in named)
        return Decision(Action.UNSURE, [], f"the model does not trust its verdict; best candidates {best}")

    if album_genres:
        labels, source = list(album_genres), "album consensus"
    else:
        labels, source = _confident_labels(result.genres, policy)
        if not labels:
            return Decision(Action.BELOW, [], source)
    new = _dedupe(policy.display(label) for label in labels)

    current = list(current_genres or [])
    if not current or policy.existing == "overwrite":
        final = new
    elif policy.existing == "merge":
        final = _dedupe(current + new)
    else:  # keep
        if current == new:
            return Decision(Action.UNCHANGED, [], "already has these genres")
        return Decision(Action.KEEP, [], f"has genres {_join(current)}; would write "
                        f"{_join(new)} ({source})")
    if final == current:
        return Decision(Action.UNCHANGED, [], "already has these genres")
    return Decision(Action.WRITE, final, source)


def album_groups(results: Iterable[TrackResult]) -> dict[tuple[str, str | None], list[TrackResult]]:
    """The albums of ``results``: (folder, album tag or None) -> its successful
    tracks, in order. Tracks group by folder and album tag (tracks without one:
    by folder alone), so two albums with the same title in different folders
    stay apart; a group may hold a single track."""
    groups: dict[tuple[str, str | None], list[TrackResult]] = defaultdict(list)
    for r in results:
        if r.status == "ok" and r.genres:
            groups[(os.path.dirname(os.fspath(r.path)), r.album or None)].append(r)
    return dict(groups)


def album_ranking(tracks: list[TrackResult]) -> list[tuple[str, float]]:
    """An album's candidate labels, best first, each with its mean confidence
    over the tracks (0 for tracks that don't list it): ranked by how many
    tracks have it as their top genre, then by that mean."""
    tops = Counter(_ranked(t.genres)[0][0] for t in tracks)
    labels = dict.fromkeys(g for t in tracks for g, _ in _ranked(t.genres))
    means = {label: sum(_confidence(t.genres, label) for t in tracks) / len(tracks)
             for label in labels}
    return sorted(means.items(), key=lambda lm: (tops[lm[0]], lm[1]), reverse=True)


def album_consensus(results: Iterable[TrackResult], policy: WritePolicy) -> dict[str, list[str]]:
    """Album-wide genres: path -> [label] for tracks of albums that agree.

    Tracks group as ``album_groups`` makes them; only groups of two or more
    count. The group's genre is the first of ``album_ranking`` (the most
    frequent top genre; ties: the higher mean confidence); it applies to all
    the group's tracks when that mean confidence is >= min_confidence.
    """
    consensus: dict[str, list[str]] = {}
    for tracks in album_groups(results).values():
        if len(tracks) < 2:
            continue
        winner, mean = album_ranking(tracks)[0]
        if mean >= policy.min_confidence:
            for t in tracks:
                consensus[t.path] = [winner]
    return consensus


def plan(results: Iterable[TrackResult], policy: WritePolicy,
         read: Callable[[str], list[str]] | None = tags.read_genres) -> Plan:
    """``decide`` for every result, in order, reading each candidate file's
    current genres with ``read`` (the file's tags, not the cache: another
    program may have set a genre since the analysis and kept the file's size
    and time). The entries' results carry the genres read. With ``read=None``
    the results' own ``current_genres`` (as of the analysis) are used: a
    quick preview; ``writer.apply`` reads every file again before writing.

    A file whose tags cannot be read gets an "error" decision; the rest go on.
    """
    results = list(results)
    consensus = album_consensus(results, policy) if policy.album_consensus else {}
    entries = []
    for r in results:
        current = r.current_genres
        if (read is not None and r.status == "ok" and tags.supports(r.path)
                and policy.excluded_by(r.path) is None):
            try:
                current = read(r.path)
            except TagError as e:
                entries.append(PlanEntry(r, Decision(Action.ERROR, [], e.reason)))
                continue
            r = dataclasses.replace(r, current_genres=list(current))
        album = consensus.get(r.path)
        entries.append(PlanEntry(r, decide(r, current, policy, album_genres=album), album))
    return Plan(entries, policy)


# --- helpers ---

def check_option(name: str, value) -> None:
    """Raise ValueError with a user-facing message when a policy value is bad."""
    def is_number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    def is_str_list(v):
        return isinstance(v, list) and all(isinstance(x, str) for x in v)

    if name == "min_confidence" and not (is_number(value) and 0 <= value <= 1):
        raise ValueError(f"min_confidence must be a number from 0 to 1, not {value!r}")
    if name == "top_k" and not (isinstance(value, int) and not isinstance(value, bool)
                                and value >= 1):
        raise ValueError(f"top_k must be a whole number of at least 1, not {value!r}")
    if name == "existing" and value not in EXISTING_MODES:
        raise ValueError(f"existing must be one of {', '.join(EXISTING_MODES)}, "
                         f"not {value!r}")
    if name == "display_names" and not (
            isinstance(value, dict)
            and all(isinstance(k, str) and isinstance(v, str) and v.strip()
                    for k, v in value.items())):
        raise ValueError("display_names must map labels to non-empty names")
    if name == "display_names":
        for label, text in value.items():
            bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cs")), None)
            if bad is not None:
                # A NUL would split an ID3 frame into two genres; no tag
                # holds other control characters or lone surrogates.
                raise ValueError(f"display_names: the name for {label!r} holds the control "
                                 f"character U+{ord(bad):04X}; use plain text")
    if name == "album_consensus" and not isinstance(value, bool):
        raise ValueError(f"album_consensus must be true or false, not {value!r}")
    if name in ("include", "exclude") and not is_str_list(value):
        raise ValueError(f"{name} must be a list of glob patterns, not {value!r}")


def _ranked(predictions: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return sorted(predictions, key=lambda p: p[1], reverse=True)


def _confidence(predictions: list[tuple[str, float]], label: str) -> float:
    return next((c for g, c in predictions if g == label), 0.0)


def _confident_labels(predictions: list[tuple[str, float]],
                      policy: WritePolicy) -> tuple[list[str], str]:
    """(labels to write, reason): up to top_k labels at or above min_confidence."""
    ranked = _ranked(predictions)
    if not ranked:
        return [], "no genre predicted"
    chosen = [(g, c) for g, c in ranked[:policy.top_k] if c >= policy.min_confidence]
    if not chosen:
        genre, conf = ranked[0]
        return [], f"best genre {genre} at {conf:.2f} < {policy.min_confidence:.2f}"
    return [g for g, _ in chosen], ", ".join(f"{g} {c:.2f}" for g, c in chosen)


def _dedupe(genres: Iterable[str]) -> list[str]:
    """Drop case-insensitive repeats, keeping the first spelling and the order."""
    seen: set[str] = set()
    out = []
    for g in genres:
        if g.casefold() not in seen:
            seen.add(g.casefold())
            out.append(g)
    return out


def _join(genres: list[str]) -> str:
    return ", ".join(genres)
