"""Writing genres: the policy that decides what a write would do
(``policy``, ``config``), the writer that applies a plan through the journal
(``writer``), and undo (``undo``).

May import: ``tags``, ``store``, ``library``, ``constants``, ``errors``.
"""
