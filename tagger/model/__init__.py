"""The network and what runs it: the musicnn backbone and genre head
(``network``), the frame-wise runtime and its device and precision, the
chunk aggregation (``inference``), the "unsure" rule (``trust``), decoded
tracks grouped into network calls (``batches``), and the typed model card
(``card``: a model folder's metadata.json as a ModelCard).

The only package besides ``training`` that imports TensorFlow, and only
inside functions (``tfruntime.import_tensorflow``), so importing it is cheap.
May import: ``audio``, ``tags``, ``store``, ``library``, ``results``, ``constants``, ``errors``.
"""
