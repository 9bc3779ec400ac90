"""tagger: listen to a music library and fill in its genres.

The public API (see README, "Python API")::

    import tagger
    results = list(tagger.scan(["/data/Music"], db="cache.db"))
    plan = tagger.plan(results, tagger.WritePolicy(min_confidence=0.7, existing="overwrite"))
    run = tagger.write(plan, db="cache.db")
    tagger.undo(run.id, db="cache.db")

Names are imported on first use, so ``import tagger`` (and ``tagger --help``)
loads neither TensorFlow nor the audio stack.
"""

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "scan": "api", "plan": "api", "write": "api", "undo": "api", "history": "api",
    "cached": "api", "retagged": "api", "write_policy": "api", "ScanRun": "api",
    "learn": "api", "TaggedFile": "training.fromtags", "Learnt": "training.fromcache",
    "TrackResult": "results", "Action": "results", "WriteOutcome": "results",
    "UndoOutcome": "results",
    "WritePolicy": "writing.policy", "Decision": "writing.policy", "Plan": "writing.policy",
    "PlanEntry": "writing.policy",
    "WriteRun": "writing.writer", "Outcome": "writing.writer",
    "UndoResult": "writing.undo", "UndoFile": "writing.undo",
    "TaggerError": "errors", "DecodeError": "errors", "TagError": "errors",
    "ModelError": "errors", "CacheError": "errors", "DataError": "errors",
    "ClusterError": "errors", "ClusterOptions": "cluster.driver",
    "decided": "api", "review_albums": "api", "record_decisions": "api", "write_decided": "api", "apply_decisions": "api",
    "Choice": "writing.choices", "Verdict": "writing.choices",
    "AlbumDecision": "writing.choices", "plan_choices": "writing.choices",
    "Album": "reviewing.albums", "albums": "reviewing.albums",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tagger' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
