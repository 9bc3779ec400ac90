"""The network and what runs it: the musicnn backbone and genre head
(``network``), the frame-wise runtime and its device and precision, the
trusted / "unsure" rule and chunk aggregation (``inference``), decoded
tracks grouped into network calls (``batches``), and the model card
(``card``).

The only package besides ``training`` that imports TensorFlow, and only
inside functions (``tfruntime.import_tensorflow``), so importing it is cheap.
May import: ``audio``, ``tags``, ``store``, ``library``, ``results``, ``constants``, ``errors``.
"""
