"""A person's decisions, typed, and the plan that writes exactly them.

A ``Choice`` says what to do with one file (or, in an ``AlbumDecision``, with
every track of an album, some tracks split off with choices of their own):
accept the proposal, pick one of the model's candidates, give genres typed
by hand, skip (decide later) or reject (leave the file as it is).
``plan_choices`` turns them into a ``policy.Plan`` whose entries are marked
``chosen``, so ``writer.apply`` writes them through the journal (and
``tagger undo`` undoes them) but never lets a policy remake them.

A decisions file (the review page's "Export decisions", read by ``tagger
apply``) is JSON::

    {"format": "tagger-decisions", "version": 1, "decisions": [
      {"path": "/music/a.flac", "verdict": "pick", "genres": ["metal"],
       "current_genres": ["Rock"]}, ...]}

``genres`` are model labels for "accept" and "pick", tag text for "typed";
``current_genres`` are the file's genres as the report showed them: a file
whose genres are no longer those is not written.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .. import tags
from ..errors import TaggerError
from ..results import Action, TrackResult
from .policy import Decision, Plan, PlanEntry, WritePolicy, _dedupe, album_ranking

FILE_FORMAT = "tagger-decisions"  # the "format" of a decisions file
FILE_VERSION = 1
UNDECIDED = "not decided"  # a plan action: skipped, to be decided later


class Verdict(StrEnum):
    """What a person said about an album or a track."""

    ACCEPT = "accept"  # the proposal (the model's top genre, or the album's)
    PICK = "pick"  # one of the model's candidates
    TYPED = "typed"  # genres typed by hand
    SKIP = "skip"  # not now: asked again next time
    REJECT = "reject"  # leave the file as it is; do not ask again


WRITES = (Verdict.ACCEPT, Verdict.PICK, Verdict.TYPED)  # verdicts that write genres


@dataclass(frozen=True)
class Choice:
    """One decision. ``genres``: for ACCEPT the accepted label (empty: the
    track's own proposal), for PICK the picked labels, for TYPED the tag text
    as typed; empty for SKIP and REJECT."""

    verdict: Verdict
    genres: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "verdict", Verdict(self.verdict))
        object.__setattr__(self, "genres", tuple(g.strip() for g in self.genres if g.strip()))
        if self.verdict in (Verdict.PICK, Verdict.TYPED) and not self.genres:
            raise TaggerError(f"a {self.verdict.value!r} decision needs a genre")

    @classmethod
    def accept(cls, label: str | None = None) -> Choice:
        return cls(Verdict.ACCEPT, (label,) if label else ())

    @classmethod
    def pick(cls, *labels: str) -> Choice:
        return cls(Verdict.PICK, labels)

    @classmethod
    def typed(cls, *genres: str) -> Choice:
        return cls(Verdict.TYPED, genres)

    @classmethod
    def skip(cls) -> Choice:
        return cls(Verdict.SKIP)

    @classmethod
    def reject(cls) -> Choice:
        return cls(Verdict.REJECT)


@dataclass(frozen=True)
class AlbumDecision:
    """One choice for every track of an album (``paths``), except the tracks
    split off in ``tracks`` (path -> their own choice). ACCEPT without a label
    accepts the album's proposal (``policy.album_ranking``'s first)."""

    paths: tuple[str, ...]
    choice: Choice
    tracks: Mapping[str, Choice] = field(default_factory=dict)


Decisions = Iterable[AlbumDecision] | Mapping[str, Choice]


def per_file(decisions: Decisions, results: Iterable[TrackResult]) -> dict[str, Choice]:
    """path -> Choice, album decisions spread over their tracks (an album's
    ACCEPT becomes the acceptance of its proposal, read from ``results``)."""
    if isinstance(decisions, Mapping):
        return dict(decisions)
    by_path = {r.path: r for r in results}
    out: dict[str, Choice] = {}
    for album in decisions:
        choice = album.choice
        if choice.verdict == Verdict.ACCEPT and not choice.genres:
            tracks = [by_path[p] for p in album.paths
                      if p in by_path and by_path[p].status == "ok" and by_path[p].genres]
            if tracks:
                choice = Choice.accept(album_ranking(tracks)[0][0])
        out.update(dict.fromkeys(album.paths, choice))
        out.update(album.tracks)
    return out


def decide_choice(result: TrackResult, choice: Choice, policy: WritePolicy) -> Decision:
    """The ``Decision`` a person's choice makes for one file: the chosen genres
    replace the file's (labels shown by the policy's display names), whatever
    the policy's thresholds, "unsure" verdicts or existing mode say."""
    if choice.verdict == Verdict.REJECT:
        return Decision(Action.REJECTED, [], "rejected in review")
    if choice.verdict == Verdict.SKIP:
        return Decision(UNDECIDED, [], "skipped in review")
    if not tags.supports(result.path):
        return Decision(Action.UNSUPPORTED, [], "tagger cannot write genre tags to this format")
    if choice.verdict == Verdict.TYPED:
        new = _dedupe(choice.genres)
    else:
        labels = list(choice.genres)
        if not labels and result.genres:
            labels = [result.genres[0][0]]  # the track's own proposal
        if not labels:
            return Decision(Action.ERROR, [], "no proposal to accept")
        new = _dedupe(policy.display(label) for label in labels)
    if new == list(result.current_genres):
        return Decision(Action.UNCHANGED, [], "already has these genres")
    return Decision(Action.WRITE, new, f"{choice.verdict.value} in review")


def plan_choices(results: Iterable[TrackResult], decisions: Decisions,
                 policy: WritePolicy) -> Plan:
    """A plan of exactly the decided files, in the order of ``results`` (those
    without a decision are left out). ``results`` carry the genres the person
    saw (``current_genres``): the writer refuses a file whose genres are no
    longer those, and one changed since it was analysed."""
    results = list(results)
    choices = per_file(decisions, results)
    entries = []
    for r in results:
        choice = choices.get(r.path)
        if choice is None:
            continue
        decision = (Decision(Action.ERROR, [], r.error or "classification failed") if r.status != "ok"
                    else decide_choice(r, choice, policy))
        entries.append(PlanEntry(r, decision, chosen=True))
    return Plan(entries, policy)


# -- the decisions file ------------------------------------------------------

def read_file(path: str | os.PathLike) -> tuple[dict[str, Choice], dict[str, list[str]]]:
    """(path -> Choice, path -> the genres the report showed) from a decisions file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise TaggerError(f"cannot read the decisions: {e.strerror}", path) from e
    except ValueError as e:
        raise TaggerError(f"not a decisions file (not JSON: {e})", path) from e
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise TaggerError(f"not a decisions file (no \"format\": \"{FILE_FORMAT}\")", path)
    if data.get("version") != FILE_VERSION:
        raise TaggerError(f"decisions file version {data.get('version')!r} is not "
                          f"{FILE_VERSION}; export it again", path)
    choices, seen = {}, {}
    try:
        for item in data["decisions"]:
            choices[item["path"]] = Choice(item["verdict"], tuple(item.get("genres") or ()))
            if item.get("current_genres") is not None:
                seen[item["path"]] = list(item["current_genres"])
    except (KeyError, TypeError, ValueError) as e:
        raise TaggerError(f"not a decisions file (bad entry: {e})", path) from e
    return choices, seen


def as_seen(results: Iterable[TrackResult], seen: Mapping[str, list[str]]) -> list[TrackResult]:
    """The results with the genres a report showed as their current ones."""
    return [dataclasses.replace(r, current_genres=list(seen[r.path])) if r.path in seen else r
            for r in results]
