"""Training and measuring models: labelled datasets (``dataset``), training
(``train``, ``head``, ``scratch``), the unsure rule's calibration
(``calibration``), cross-validated scores (``evaluate``, ``scorecard``) and
safe model-folder writes (``modelstore``).

Imports TensorFlow (lazily) and scikit-learn (the ``train`` extra).
May import: ``pipeline``, ``model``, ``audio``, ``library``, ``constants``, ``errors``.
"""
