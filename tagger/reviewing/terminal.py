"""The terminal review: album by album, an answer is a letter and Enter, as
in beets' importer.

For each album it shows the folder (and album tag), each track's current
genres and the model's best candidates (unsure ones marked), the album's
proposal and its next candidates, then asks::

    [a]pply Rock, [2] Metal, [3] Pop, [e]nter a genre, [t]rack by track, [r]eject, [s]kip, [q]uit?

``a`` accepts the proposal, ``2`` / ``3`` pick that candidate, ``e`` asks for
genres on the next line (``;`` between them; Tab completes from the
library's own genres and the model's labels when the input is a terminal),
``t`` asks the same of each track, ``r`` leaves the album as it is (and is
not asked again), ``s`` skips it (asked again next time), ``q`` (or Ctrl-D,
or Ctrl-C) stops. Each
decision is handed to ``on_decision`` as soon as it is made. ``ask`` and
``say`` are ``input`` and ``print`` unless a caller gives others.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..results import TrackResult
from ..store.cache import printable
from ..writing.choices import AlbumDecision, Choice
from ..writing.policy import WritePolicy
from .albums import Album

CANDIDATES = 3  # candidates offered per album or track: the proposal and two more
TRACK_GENRES = 3  # genres shown per track
GENRE_SEPARATOR = ";"  # between typed genres


@dataclass
class Tally:
    """What a review did: albums decided (every track) and skipped (or some
    tracks left undecided), and whether it was stopped."""

    decided: int = 0
    skipped: int = 0
    stopped: bool = False


class _Quit(Exception):
    """The person quit; ``decision``: what they decided of the album before."""

    def __init__(self, decision: AlbumDecision | None = None):
        super().__init__()
        self.decision = decision


def review(albums: list[Album], policy: WritePolicy, *,
           on_decision: Callable[[AlbumDecision], None],
           completions: Iterable[str] = (), ask: Callable[[str], str] = input,
           say: Callable[[str], None] = print) -> Tally:
    """Ask about each album in turn; returns the tally."""
    tally = Tally()
    base = _base(albums)
    asker = _Asker(ask, say, sorted(set(completions), key=str.casefold))
    for n, album in enumerate(albums, 1):
        say("")
        say(f"Album {n} of {len(albums)}: {_folder(album, base)}"
            + (f"  (album {album.title!r})" if album.title else "")
            + f"  {len(album.tracks)} track{'s' if len(album.tracks) != 1 else ''}")
        width = max(len(_name(t)) for t in album.tracks)
        for track in album.tracks:
            say("  " + track_line(track, policy, width))
        try:
            decision = _album_decision(album, policy, asker)
        except _Quit as e:
            tally.stopped = True
            if e.decision is not None:
                on_decision(e.decision)
            break
        if decision is not None:
            on_decision(decision)
        # An album with a track left undecided is asked again next time.
        if decision is not None and set(decision.paths) | set(decision.tracks) >= set(album.paths):
            tally.decided += 1
        else:
            tally.skipped += 1
    return tally


def completion_words(results: Iterable[TrackResult], policy: WritePolicy) -> set[str]:
    """What Tab completes a typed genre from: the library's own genres and
    the model's labels (as the policy names them)."""
    return ({g for r in results for g in r.current_genres}
            | {policy.display(g) for r in results for g, _ in r.genres})


def track_line(track: TrackResult, policy: WritePolicy, width: int = 0) -> str:
    """"01 name.flac   now: Rock   Rock 81 % · Metal 12 %   unsure", the name
    padded to ``width`` characters so an album's lines align."""
    now = "; ".join(track.current_genres) or "–"
    best = " · ".join(f"{policy.display(g)} {_pct(c)}" for g, c in track.genres[:TRACK_GENRES])
    return (f"{_name(track).ljust(width)}   now: {now}   {best}"
            + ("   unsure" if track.unsure else ""))


def _name(track: TrackResult) -> str:
    return printable(os.path.basename(track.path))


def _album_decision(album: Album, policy: WritePolicy, asker: _Asker) -> AlbumDecision | None:
    labels = [g for g, _ in album.candidates[:CANDIDATES]]
    asker.say("Proposal: " + ", ".join(
        f"{k}) {policy.display(g)} {_pct(c)}" for k, (g, c) in enumerate(album.candidates[:CANDIDATES], 1))
        + ("   (unsure)" if album.unsure else ""))
    answer = asker.answer(labels, policy, "t", "")
    if isinstance(answer, Choice):
        return AlbumDecision(album.paths, answer)
    return _by_track(album, policy, asker) if answer == "t" else None


def _by_track(album: Album, policy: WritePolicy, asker: _Asker) -> AlbumDecision:
    """Each track asked on its own; a skipped track stays undecided."""
    tracks = {}
    width = max(len(_name(t)) for t in album.tracks)
    try:
        for track in album.tracks:
            asker.say("  " + track_line(track, policy, width))
            answer = asker.answer([g for g, _ in track.genres[:CANDIDATES]], policy, "", "  ")
            if isinstance(answer, Choice):
                tracks[track.path] = answer
    except _Quit:
        raise _Quit(AlbumDecision((), Choice.skip(), tracks) if tracks else None) from None
    return AlbumDecision((), Choice.skip(), tracks)


class _Asker:
    def __init__(self, ask: Callable[[str], str], say: Callable[[str], None], words: list[str]):
        self._ask, self.say, self.words = ask, say, words

    def answer(self, labels: list[str], policy: WritePolicy, extra: str,
               indent: str) -> Choice | str:
        """Ask until the answer is a choice, "s" or one of the ``extra``
        letters ("t": track by track); "q" raises _Quit."""
        letters = ["a", *map(str, range(2, len(labels) + 1)), "e", *extra, "r", "s", "q"]
        picks = "".join(f"[{k}] {policy.display(g)}, " for k, g in enumerate(labels[1:], 2))
        prompt = (f"{indent}[a]pply {policy.display(labels[0])}, {picks}[e]nter a genre, "
                  + ("[t]rack by track, " if "t" in extra else "") + "[r]eject, [s]kip, [q]uit? ")
        while True:
            answer = self.line(prompt).strip().lower()
            if answer in ("a", "1"):
                return Choice.accept(labels[0])
            if answer.isdigit() and 2 <= int(answer) <= len(labels):
                return Choice.pick(labels[int(answer) - 1])
            if answer == "e":
                genres = self.typed()
                if genres:
                    return Choice.typed(*genres)
            elif answer == "r":
                return Choice.reject()
            elif answer == "q":
                raise _Quit
            elif answer == "s" or answer in extra:
                return answer
            else:
                self.say(f"Answer {', '.join(letters[:-1])} or q.")

    def typed(self) -> list[str]:
        with _completion(self.words):
            text = self.line(f"Genre ({GENRE_SEPARATOR} between genres, Tab completes): ")
        return [g.strip() for g in text.split(GENRE_SEPARATOR) if g.strip()]

    def line(self, prompt: str) -> str:
        try:
            return self._ask(prompt)
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C, or the input ran out:
            self.say("")  # stop, keeping (and writing) what was decided
            raise _Quit from None


class _completion:
    """Tab completion of ``words`` for one ``input()``, when stdin is a terminal."""

    def __init__(self, words: list[str]):
        self.words = words
        self.readline = None
        if sys.stdin.isatty():
            try:
                import readline
            except ImportError:  # Windows
                return
            self.readline = readline

    def __enter__(self):
        if self.readline is not None:
            self.saved = (self.readline.get_completer(), self.readline.get_completer_delims())
            self.readline.set_completer(self.complete)
            self.readline.set_completer_delims(GENRE_SEPARATOR)
            self.readline.parse_and_bind("tab: complete")
        return self

    def __exit__(self, *exc):
        if self.readline is not None:
            self.readline.set_completer(self.saved[0])
            self.readline.set_completer_delims(self.saved[1])

    def complete(self, text: str, state: int) -> str | None:
        """readline's completer: the ``state``-th word starting with ``text``."""
        typed = text.lstrip()
        lead = text[: len(text) - len(typed)]
        found = [lead + w for w in self.words if w.casefold().startswith(typed.casefold())]
        return found[state] if state < len(found) else None


def _pct(confidence: float) -> str:
    return f"{confidence:.0%}".replace("%", " %")


def _base(albums: list[Album]) -> str:
    """The folder above every album's folder, shown once instead of on each."""
    folders = [a.folder for a in albums]
    return os.path.dirname(os.path.commonpath(folders)) if folders else ""


def _folder(album: Album, base: str) -> str:
    return printable(os.path.relpath(album.folder, base) if base else album.folder)
