"""Optional dependencies: what ``pip install 'tagger[train]'`` adds, and the
message a command gives when it is missing (instead of an ImportError deep
inside a run)."""

from __future__ import annotations

import importlib.util

from .errors import MissingExtra

# import name -> distribution name, for the libraries of the `train` extra.
TRAIN = {"sklearn": "scikit-learn", "matplotlib": "matplotlib"}


def require_train(what: str, *modules: str) -> None:
    """Raise MissingExtra naming the install command when one of ``modules``
    (import names from TRAIN) is not installed; ``what`` is the feature that
    needs them, e.g. "tagger train"."""
    missing = [TRAIN[m] for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        names = " ".join(missing)
        raise MissingExtra(f"{what} needs {', '.join(missing)}, which is not installed: "
                           f"pip install 'tagger[train]' (with pipx: pipx inject tagger {names})")
