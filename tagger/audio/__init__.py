"""Audio: decoding (the only place decoders run), log-mel features, and the
work one file gets in a decode worker process, with the pool of those
processes (``workers``), and a list of files decoded and cut into the
network's chunks (``chunks``).

Runs in worker processes; imports no TensorFlow and nothing of ``model``.
May import: ``tags`` (a file's genres and album; ``_raw`` to sniff past
tags), ``library``, ``results``, ``constants``, ``errors`` (pyproject.toml's
import-linter contracts check this for every package).
"""
