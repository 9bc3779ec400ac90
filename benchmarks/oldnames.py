"""Import a tagger module by its current name, or by the name it had in an
older commit: the benchmarks run exported old commits (``--rev``,
``--against``, compare.py) with the code of this checkout.

The package moved from flat modules (``tagger.decode``) to subpackages
(``tagger.audio.decode``); before that, ``tagger.model`` held what
``tagger.model.card``, ``tagger.model.device`` and ``tagger.model.tfruntime``
hold now.
"""

import importlib

# current module -> its names in older commits, newest first
OLD_NAMES = {
    "tagger.audio.decode": ["tagger.decode"],
    "tagger.audio.features": ["tagger.features"],
    "tagger.model.card": ["tagger.modelcard", "tagger.model"],
    "tagger.model.device": ["tagger.device", "tagger.model"],
    "tagger.model.tfruntime": ["tagger.tfruntime", "tagger.model"],
    "tagger.model.inference": ["tagger.model"],
    "tagger.report.review": ["tagger.review"],
    "tagger.store.cache": ["tagger.cache"],
}


def module(name: str):
    """The module ``name``, or the first of its old names that imports."""
    for candidate in [name, *OLD_NAMES.get(name, [])]:
        try:
            return importlib.import_module(candidate)
        except ImportError:
            continue
    raise ImportError(f"neither {name} nor {OLD_NAMES.get(name)} in this tagger")
