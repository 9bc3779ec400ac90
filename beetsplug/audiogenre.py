"""beets plugin ``audiogenre``: genres from listening to the audio, by tagger.

Enable it in beets' config (``plugins: audiogenre``) with tagger installed
beside beets. ``beet audiogenre [QUERY]`` analyses the matching items with
tagger's scan (the same cache, model and decode pool as ``tagger scan``: items
already analysed are not decoded again) and sets each item's ``genres``
through beets, so beets' database and the files agree::

    audiogenre:
        auto: yes             # analyse newly imported items
        force: no             # replace genres an item already has
        min_confidence: null  # 0..1; null: tagger's config, else the model card's
        count: 1              # genres per item, each passing min_confidence
        db: null              # tagger's cache; null: tagger's default
        model: null           # a tagger model folder; null: the learnt one, else the shipped
        learnt_model: null    # where --learn saves; null: audiogenre-model in beets' config dir
        jobs: null            # decode processes; null: all cores
        pretend: no

``beet audiogenre --learn [QUERY]`` teaches tagger the library's own genres:
it trains a model on the ``genres`` beets holds for the matching items (in
their most common spelling; tagger's ``train --from-tags`` rules: a genre
needs a few items from two albums, the first of several genres counts) and
saves it in ``learnt_model``; from then on the plugin uses that model
unless ``model`` names another, so ``beet audiogenre`` fills the untagged
items in the library's own words. Items tagger's cache knows from an
earlier ``beet audiogenre`` are not decoded again.

An ``unsure`` result, an error, or a genre below ``min_confidence`` is never
written. Genres are written with tagger's display names (``hiphop`` ->
``Hip-Hop``). Files are written only where beets writes them
(``import.write``), with beets' own writer.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Sequence

from beets import ui
from beets.library import Item, Library
from beets.plugins import BeetsPlugin

import tagger
from tagger import Action

LEARNT_MODEL_NAME = "audiogenre-model"  # --learn's folder in beets' config dir, by default


class AudioGenrePlugin(BeetsPlugin):
    def __init__(self) -> None:
        super().__init__()
        self.config.add({
            "auto": True,
            "force": False,
            "min_confidence": None,
            "count": 1,
            "db": None,
            "model": None,
            "learnt_model": None,
            "jobs": None,
            "pretend": False,
        })
        self._imported: list[int] = []  # ids of items imported in this session
        if self.config["auto"].get(bool):
            # Collected per task once its files sit where they belong, then
            # analysed together when the import ends: one model load and one
            # decode pool for the whole import, not one per album.
            self.register_listener("import_task_files", self._collect_imported)
            self.register_listener("import", self._analyse_imported)

    # -- command ---------------------------------------------------------------

    def commands(self) -> list[ui.Subcommand]:
        cmd = ui.Subcommand("audiogenre", help="set genres by listening to the audio (tagger)")
        cmd.parser.add_option("-p", "--pretend", action="store_true",
                              help="show what would change but change nothing")
        cmd.parser.add_option("-f", "--force", dest="force", action="store_true",
                              help="replace genres an item already has")
        cmd.parser.add_option("-F", "--no-force", dest="force", action="store_false",
                              help="keep genres an item already has")
        cmd.parser.add_option("--min-confidence", dest="min_confidence", type="float",
                              help="write a genre only at or above this confidence (0..1)")
        cmd.parser.add_option("--count", dest="count", type="int",
                              help="genres per item (each passing --min-confidence)")
        cmd.parser.add_option("--learn", dest="learn", action="store_true", default=False,
                              help="learn the genres the matching items already have, in the "
                                   "library's spelling, and use that model from then on")
        cmd.func = self._command
        return [cmd]

    def _command(self, lib: Library, opts, args: list[str]) -> None:
        learn = vars(opts).pop("learn", False)
        self.config.set_args(vars(opts))
        items = list(lib.items(args))
        if learn:
            self.learn(items)
            return
        self.tag_items(items, write=ui.should_write(),
                       pretend=self.config["pretend"].get(bool))

    def learn(self, items: Sequence[Item]) -> tagger.Learnt:
        """Train a model on the genres beets holds for ``items`` (tagger.learn)
        into the ``learnt_model`` folder, which the plugin then uses."""
        files = []
        for item in items:
            path = item_path(item)
            try:
                st = os.stat(path)
            except OSError as e:
                self._log.warning("{}: cannot read the file: {}", item, e.strerror)
                continue
            files.append(tagger.TaggedFile(path, st.st_size, st.st_mtime_ns, list(item.genres),
                                           item.album or None,
                                           item.albumartist or item.artist or None))
        out = self.learnt_model()
        try:
            learnt = tagger.learn(files, out, db=self._path("db"), jobs=self.config["jobs"].get(),
                                  on_progress=lambda m: self._log.info("{}", m))
        except tagger.TaggerError as e:
            raise ui.UserError(f"audiogenre: {e}") from e
        for line in learnt.labels.summary():
            ui.print_(f"audiogenre: {line}")
        counts = learnt.card.per_label
        ui.print_(f"audiogenre: learnt {len(counts)} genres from {sum(counts.values())} items "
                  f"into {out}" + ("" if self._path("model") else "; audiogenre now uses it"))
        return learnt

    def learnt_model(self) -> str:
        """Where --learn saves its model (``learnt_model``, or audiogenre-model
        in beets' config folder)."""
        from beets import config

        return self._path("learnt_model") or os.path.join(config.config_dir(),
                                                          LEARNT_MODEL_NAME)

    def model(self) -> str | None:
        """The model the plugin scans with: ``model``, else a learnt one if
        --learn made it, else tagger's shipped model (None)."""
        learnt = self.learnt_model()
        return self._path("model") or (learnt if os.path.isfile(
            os.path.join(learnt, "metadata.json")) else None)

    # -- import hook -----------------------------------------------------------

    def _collect_imported(self, session, task) -> None:
        self._imported.extend(item.id for item in task.imported_items())

    def _analyse_imported(self, lib: Library, paths) -> None:
        ids, self._imported = self._imported, []
        items = [item for item in map(lib.get_item, ids) if item is not None]
        if items:
            self.tag_items(items, write=ui.should_write(), pretend=False)

    # -- the work --------------------------------------------------------------

    def tag_items(self, items: Sequence[Item], write: bool, pretend: bool) -> Counter:
        """Analyse ``items`` and set their genres (unless ``pretend``); with
        ``write``, beets also writes them into the files. Returns how many
        items got each action (tagger's decision actions)."""
        if not items:
            return Counter()
        try:
            plan = self.plan(items)
        except tagger.TaggerError as e:
            raise ui.UserError(f"audiogenre: {e}") from e
        counts: Counter = Counter()
        written: dict[str, list[str]] = {}
        for item, entry in zip(items, plan):
            decision = entry.decision
            counts[decision.action] += 1
            if decision.action != Action.WRITE:
                self._log.debug("{}: {}: {}", item, decision.action, decision.reason)
                continue
            item.genres = decision.genres_to_write
            ui.show_model_changes(item, fields=["genres"])
            if pretend:
                continue
            item.store()
            if write and item.try_write():
                written[item_path(item)] = decision.genres_to_write
        if written:
            try:
                tagger.retagged(written, db=self._path("db"))
            except (tagger.TaggerError, OSError) as e:
                # The files are written; only the next run analyses them again.
                self._log.warning("cannot update tagger's cache: {}", e)
        ui.print_(summary(counts, pretend))
        return counts

    def plan(self, items: Sequence[Item]) -> tagger.Plan:
        """tagger's plan for ``items``, one entry each, in order: the scan's
        results decided on the genres beets holds for each item."""
        policy = self.policy()  # a bad setting fails before any decoding
        paths = [item_path(item) for item in items]
        self._log.info("analysing {} items (those analysed before come from tagger's cache)",
                       len(paths))
        results = analyse(paths, self._path("db"), self.model(), self.config["jobs"].get())
        return tagger.plan(
            [dataclasses.replace(results.get(path) or tagger.TrackResult(
                path, "error", error="not analysed"), current_genres=list(item.genres))
             for item, path in zip(items, paths)],
            policy, fresh=False)

    def policy(self) -> tagger.WritePolicy:
        """tagger's write policy (its config file, display names, the model
        card's threshold), with this section's settings winning: ``force``
        replaces existing genres, ``count`` is its top_k."""
        return tagger.write_policy(
            model=self.model(),
            min_confidence=self.config["min_confidence"].get(),
            top_k=self.config["count"].get(int),
            existing="overwrite" if self.config["force"].get(bool) else "keep")

    def _path(self, key: str) -> str | None:
        """A path option, ``~`` expanded as beets does (None: tagger's default)."""
        return None if self.config[key].get() is None else self.config[key].as_filename()


# -- tagger ------------------------------------------------------------------


def analyse(paths: list[str], db: str | None, model: str | None,
            jobs: int | None) -> dict[str, tagger.TrackResult]:
    """path -> TrackResult for ``paths``, through tagger's scan: cached
    results for files already analysed, the rest decoded and classified."""
    with tagger.scan(paths, db=db, model=model, jobs=jobs) as run:
        return {r.path: r for r in run}


def item_path(item: Item) -> str:
    """An item's path as tagger names files: absolute, decoded text."""
    return os.path.abspath(os.fsdecode(item.path))


def summary(counts: Counter, pretend: bool) -> str:
    verb = "would set" if pretend else "set"
    parts = [f"{verb} genres of {counts.get(Action.WRITE, 0)} items"]
    parts += [f"{n} {action}" for action, n in sorted(counts.items()) if action != Action.WRITE]
    return "audiogenre: " + ", ".join(parts)
