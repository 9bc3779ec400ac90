"""Regenerate tests/data/golden_default.json after retraining the default model:

    python tests/data/make_golden.py

It stores the shipped model's id and its aggregated output for the fixed
clip of tests/test_model.py::golden_clip."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[0].parent))

from test_model import GOLDEN, golden_prediction  # noqa: E402

model_id, distribution = golden_prediction()
GOLDEN.write_text(json.dumps({"model_id": model_id, "distribution": distribution}, indent=1) + "\n")
print("wrote", GOLDEN, model_id)
