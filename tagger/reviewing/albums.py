"""The albums a review goes through, as album consensus groups them.

``albums(results)`` groups a scan's successful results by folder and album
tag (``policy.album_groups``; a file alone in its group is an album of one)
into ``Album``s, in path order, each with its candidates ranked as album
consensus ranks them. ``Album.shown`` applies a review's filters;
``to_review`` leaves out the albums already decided too.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass

from ..results import TrackResult
from ..writing.policy import WritePolicy, album_groups, album_ranking


@dataclass(frozen=True)
class Album:
    """One album: its folder, album tag (None: none), tracks in path order, and
    candidates: (label, mean confidence over the tracks), best first."""

    folder: str
    title: str | None
    tracks: tuple[TrackResult, ...]
    candidates: tuple[tuple[str, float], ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(t.path for t in self.tracks)

    @property
    def proposal(self) -> str:
        """The label album consensus would pick."""
        return self.candidates[0][0]

    @property
    def unsure(self) -> bool:
        """Some track's top genre is one the model does not trust."""
        return any(t.unsure for t in self.tracks)

    @property
    def without_genre(self) -> bool:
        """No track has a genre tag."""
        return not any(t.current_genres for t in self.tracks)

    def differs(self, policy: WritePolicy) -> bool:
        """Some track's genres are not just the proposal (as the policy names it)."""
        proposed = [policy.display(self.proposal)]
        return any(list(t.current_genres) != proposed for t in self.tracks)

    def shown(self, policy: WritePolicy, *, unsure: bool = False, without_genre: bool = False,
              differs: bool = False) -> bool:
        """Whether a review with these filters shows this album (all must hold)."""
        return ((not unsure or self.unsure) and (not without_genre or self.without_genre)
                and (not differs or self.differs(policy)))


def albums(results: Iterable[TrackResult]) -> list[Album]:
    """The albums of the successful ``results``, by folder then album tag."""
    out = []
    for (folder, title), tracks in album_groups(results).items():
        tracks = sorted(tracks, key=lambda t: t.path)
        out.append(Album(folder, title, tuple(tracks), tuple(album_ranking(tracks))))
    return sorted(out, key=lambda a: (a.folder, a.title or ""))


def to_review(results: Iterable[TrackResult], policy: WritePolicy, decided: Container[str], *,
              unsure: bool = False, without_genre: bool = False,
              differs: bool = False) -> list[Album]:
    """The albums a review asks about: those with a track not in ``decided``
    (paths) that the filters show (``Album.shown``)."""
    return [a for a in albums(results)
            if not all(p in decided for p in a.paths)
            and a.shown(policy, unsure=unsure, without_genre=without_genre, differs=differs)]
