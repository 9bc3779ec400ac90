"""Training and measuring models: labelled datasets (``dataset``), training
(``train``, ``head``, ``scratch``), the unsure rule's calibration
(``calibration``), cross-validated scores (``evaluate``, ``scorecard``),
leave-one-genre-out (``openset``) and safe model-folder writes
(``modelstore``), a saved model's verdicts on a dataset (``probs``) and the
run's ``settings``.

Imports TensorFlow (lazily) and scikit-learn (the ``train`` extra).
May import: ``pipeline`` (``probs`` runs the local scan), ``cluster``, ``model``, ``audio``,
``store``, ``tags``, ``library``, ``results``, ``constants``, ``errors``.
"""
