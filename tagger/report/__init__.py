"""Reports of scan results: the terminal table and summary, CSV and JSON
files (``render``), and the self-contained HTML review page (``review``, with
its template, style and script as package data).

May import every package below it (``writing`` and down); it uses
``writing.policy`` (what a write would do), ``store.cache`` (printable
names), ``results`` and ``errors``.
"""
