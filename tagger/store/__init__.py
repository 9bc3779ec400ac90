"""The SQLite store: the cache of per-file results (``cache``) and the
journal of write runs with their backups and undo records (``journal``).

May import: ``tags`` (the journal reads and restores tag states),
``library``, ``constants``, ``errors``.
"""
