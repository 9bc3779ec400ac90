"""Reviewing, album by album: the albums a person decides on and which of
them to show (``albums``), and the terminal review that asks (``terminal``).
The decisions themselves are ``writing.choices``; they are kept in the cache
(``store.decisions``) and written through ``writing.writer``.

May import: ``writing``, ``store``, ``report``, ``constants``, ``errors``.
"""
