"""A decode worker's task that counts mutagen's parses of each file.

``DecodePool(fe, analyse=parsecount.analyse)``: every worker runs the real
``analysis.analyse`` and returns its Decoded with ``album`` set to
"parses=N", the number of mutagen file objects (``mutagen.FileType``) made
while it ran. Workers import this module by name, so it lives in tests/.
"""

import dataclasses

from mutagen import FileType

from tagger.audio import analysis


def counting(fn, *args):
    """(fn(*args), how many mutagen FileType objects it made)."""
    made = []
    init = FileType.__init__

    def counted(self, *a, **kw):
        made.append(type(self).__name__)
        init(self, *a, **kw)

    FileType.__init__ = counted
    try:
        return fn(*args), len(made)
    finally:
        FileType.__init__ = init


def analyse(path, fe, fast=None):
    decoded, parses = counting(analysis.analyse, path, fe, fast)
    return dataclasses.replace(decoded, album=f"parses={parses}")
