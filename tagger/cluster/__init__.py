"""Scanning on a Ray cluster: the driver (``driver``: schedules decode tasks
and network actors, collects results) and what runs on the nodes (``node``,
which imports no Ray).

May import: ``model``, ``audio``, ``store``, ``tags``, ``library``, ``constants``, ``errors``.
"""
