"""A decoder that misbehaves on purpose, for the pool's crash and hang tests.

``DecodePool(fe, analyse=fakedecoder.analyse)``: a worker given a path whose
name contains "crash-me" dies of SIGSEGV (as a native decoder bug would kill
it), one containing "hang-me" never returns; other paths decode normally.
Workers import this module by name, so it lives in tests/ (on sys.path).
"""

import os
import signal
import time

from tagger.audio import analysis


def analyse(path, fe, fast=None):
    name = os.path.basename(path)
    if "crash-me" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    if "hang-me" in name:
        time.sleep(3600)
    return analysis.analyse(path, fe, fast)
