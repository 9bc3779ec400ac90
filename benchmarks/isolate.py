"""Make every ``tagger`` import come from one exported tree, not from an
editable install. Copied as ``sitecustomize.py`` into the tree (see
exported.py), so that each Python process started with the tree on
PYTHONPATH (the scan, its decode workers, a ceiling pool) runs this first.

Why: ``pip install -e`` with setuptools installs an import finder for the
package-dir mapping (tagger -> /repo/tagger, tagger.models -> /repo/models).
PYTHONPATH puts the exported ``tagger`` first, but the finder still answers
for every ``tagger.X`` the export lacks: an old commit's ``import
tagger.model.device`` quietly got the installed checkout's device.py, and a
``try: ... except ImportError`` fallback never ran. Here those finders are
dropped, and ``tagger.models`` maps to the tree's own ``models/`` as the
install maps it. Standard library only: this runs at every interpreter start.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec
from pathlib import Path

EDITABLE = "__editable__"  # setuptools' finder modules: __editable___<dist>_finder


class ModelsFinder:
    """``tagger.models`` -> ``<tree>/models`` (a namespace package, like the
    install's package-dir mapping); ``tagger.models.X`` is then found in it."""

    def __init__(self, models: Path):
        self.models = models

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tagger.models" or not self.models.is_dir():
            return None
        spec = ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = [str(self.models)]
        return spec


def _editable(obj) -> bool:
    """A finder or path hook of tagger's editable install (not of another
    package's: its MAPPING names the packages it serves)."""
    name = str(getattr(obj, "__module__", ""))
    return name.startswith(EDITABLE) and "tagger" in getattr(sys.modules.get(name), "MAPPING",
                                                             {"tagger": None})


def isolate(tree: Path) -> None:
    """Drop the finders and path hooks of tagger's editable install from this
    process and map tagger.models to ``tree/models``."""
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not _editable(f) and not isinstance(f, ModelsFinder)]
    sys.path_hooks[:] = [h for h in sys.path_hooks if not _editable(h)]
    for entry in [p for p in sys.path if EDITABLE in p]:  # their placeholder entries
        sys.path.remove(entry)
    sys.path_importer_cache.clear()
    sys.meta_path.append(ModelsFinder(Path(tree).resolve() / "models"))


if __name__ == "sitecustomize":
    isolate(Path(__file__).resolve().parent)
