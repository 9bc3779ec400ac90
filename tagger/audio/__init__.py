"""Audio: decoding (the only place decoders run), log-mel features, and the
work one file gets in a decode worker process, with the pool of those
processes.

Runs in worker processes; imports no TensorFlow and nothing of ``model``.
May import: ``tags._raw`` (to sniff past tags), ``constants``, ``errors``.
"""
