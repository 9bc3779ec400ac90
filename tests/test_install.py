"""Install as a user does: a wheel built from a copy of the source tree, the
copy deleted, installed (not editable) into a fresh virtual environment with
CI's pinned versions (.ci/constraints.txt), then the `tagger` command run from
another folder on real MP3 and FLAC files.

This downloads and installs TensorFlow into the venv: about 70 s of the
module's ~3 min here. `pytest -m "not install"` leaves it out while working.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from audiofiles import make_audio
from tagger.constants import DEFAULT_MODEL_DIR, MUSICNN_WEIGHTS
from tagger.model.card import model_id

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / ".ci" / "constraints.txt"
# What a clean clone holds that a build would not use, and what a working tree
# may hold besides.
NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".venv", "corpus", "results")


def _env() -> dict:
    """The environment of a user's shell: nothing pointing at this source tree."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(args, cwd, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def _audio(path: Path, seconds: float, kind: str = "tone") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    make_audio(path, seconds, kind)


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, venv bin folder, a folder outside any source tree)."""
    root = tmp_path_factory.mktemp("install")
    source, dist = root / "source", root / "dist"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    _ok(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source], root))
    shutil.rmtree(source)  # the clone is gone
    (wheel,) = dist.glob("tagger-*.whl")
    _ok(_run([sys.executable, "-m", "venv", root / "venv"], root))
    bin_dir = root / "venv" / "bin"
    _ok(_run([bin_dir / "python", "-m", "pip", "install", "-q", "-c", CONSTRAINTS, wheel], root,
             timeout=1800))
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return wheel, bin_dir, elsewhere


def test_the_wheel_holds_the_models_and_their_licences(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (DEFAULT_MODEL_DIR / "metadata.json", DEFAULT_MODEL_DIR / "model.weights.h5",
                 MUSICNN_WEIGHTS, MUSICNN_WEIGHTS.parent / "LICENSE"):
        assert "tagger/models/" + path.relative_to(REPO / "models").as_posix() in names
    assert any(n.endswith(".dist-info/licenses/models/musicnn/LICENSE") for n in names)


def test_the_installed_package_runs_from_site_packages_with_the_same_model_id(installed):
    """The installed model hashes as the repository's, so users' caches stay valid."""
    _, bin_dir, elsewhere = installed
    code = ("import json, tagger, tagger.constants as c, tagger.model.card as m; "
            "print(json.dumps([tagger.__file__, str(c.DEFAULT_MODEL_DIR), "
            "m.model_id(c.DEFAULT_MODEL_DIR), c.MUSICNN_WEIGHTS.is_file()]))")
    package, model_dir, installed_id, weights = json.loads(
        _ok(_run([bin_dir / "python", "-c", code], elsewhere)).stdout)
    site = bin_dir.parent / "lib"
    assert Path(package).is_relative_to(site) and Path(model_dir).is_relative_to(site)
    assert installed_id == model_id(DEFAULT_MODEL_DIR)
    assert weights


def test_help_and_a_scan_of_mp3_and_flac_from_another_folder(installed, tmp_path):
    _, bin_dir, elsewhere = installed
    _ok(_run([bin_dir / "tagger", "--help"], elsewhere))
    music = tmp_path / "music"
    _audio(music / "drums.mp3", 4.0, "drums")
    _audio(music / "tone.flac", 4.0, "tone")
    report = tmp_path / "report.json"
    _ok(_run([bin_dir / "tagger", "scan", music, "--db", tmp_path / "cache.db",
              "--report", report, "--jobs", "2"], elsewhere))
    rows = json.loads(report.read_text())
    assert sorted(Path(r["path"]).name for r in rows) == ["drums.mp3", "tone.flac"]
    assert all(r["status"] == "ok" and r["genres"] for r in rows), rows


def test_pip_check_is_clean(installed):
    _, bin_dir, elsewhere = installed
    _ok(_run([bin_dir / "python", "-m", "pip", "check"], elsewhere))


def test_train_runs_on_the_installed_musicnn_weights(installed, tmp_path):
    """Was a raw h5py traceback: the weights path pointed outside the package."""
    _, bin_dir, elsewhere = installed
    data = tmp_path / "labelled"
    for label, kind in (("drums", "drums"), ("tones", "tone")):
        for i in range(2):
            _audio(data / label / f"{label}.{i}.wav", 3.5, kind)
    out = tmp_path / "mine"
    _ok(_run([bin_dir / "tagger", "train", data, "--out", out, "-j", "2"], elsewhere))
    assert json.loads((out / "metadata.json").read_text())["labels"] == ["drums", "tones"]


def test_evaluate_without_the_train_extra_says_what_to_install(installed, tmp_path):
    """The bare wheel has no matplotlib: --confusion names the extra, no traceback."""
    _, bin_dir, elsewhere = installed
    data = tmp_path / "labelled"
    for label in ("a", "b"):
        _audio(data / label / "x.wav", 1.0)
    proc = _run([bin_dir / "tagger", "evaluate", data, "--confusion", tmp_path / "c.png"],
                elsewhere)
    assert proc.returncode == 1
    assert proc.stderr == ("Error: tagger evaluate needs matplotlib, which is not installed: "
                           "pip install 'tagger[train]' (with pipx: pipx inject tagger matplotlib)\n")
