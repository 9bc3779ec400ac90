"""The SQLite store: one file holding the cache of per-file results
(``cache``) and the journal of write runs with their backups, byte deltas
and undo records (``journal``); ``db`` is the one way SQLite's errors leave
it (a CacheError naming the file).

May import: ``tags`` (the journal puts backups back, and decodes the deltas
of ``tags.delta``), ``library``, ``constants``, ``errors``.
"""
