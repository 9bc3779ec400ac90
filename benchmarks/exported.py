"""The code under test, exported to a folder of its own: a git commit
(``git archive``) or a copy of the working tree's tagger/ and models/, with
isolate.py as its sitecustomize.py, byte-compiled, and checked from a child
process to be what ``tagger`` imports there (module files and model folder
inside the export) before anything is measured."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = "WORK"  # the working tree, as a revision name

# Run in a child with the export's environment: what does `tagger` import,
# and is an import finder of tagger's editable install (whose MAPPING sends
# tagger.X to the installed checkout) still there?
PROBE = """
import json, sys
import tagger, tagger.cli, tagger.pipeline, tagger.constants as c
def editable(f):
    return "tagger" in getattr(sys.modules.get(getattr(f, "__module__", "")), "MAPPING", {})
print(json.dumps({
    "tagger": tagger.__file__, "model_dir": str(c.DEFAULT_MODEL_DIR),
    "modules": {n: getattr(m, "__file__", None) for n, m in sys.modules.items()
                if n == "tagger" or n.startswith("tagger.")},
    "finders": [repr(f) for f in sys.meta_path + sys.path_hooks if editable(f)]}))
"""


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def export(rev: str | None, dest: Path) -> str | None:
    """Put commit ``rev`` (or, for None or WORK, a copy of the working tree's
    tagger/ and models/) in ``dest``, with isolate.py as sitecustomize.py,
    and byte-compile it (PYTHONDONTWRITEBYTECODE would otherwise make every
    start-up compile tagger from source). Returns rev's short hash, or None
    for the working tree."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    commit = None
    if rev and rev != WORK:
        commit = git("rev-parse", "--short", f"{rev}^{{commit}}")
        if not commit:
            raise SystemExit(f"Error: no git commit {rev!r} in {REPO}")
        data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit],
                              capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")
    else:
        for part in ("tagger", "models"):
            shutil.copytree(REPO / part, dest / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(HERE / "isolate.py", dest / "sitecustomize.py")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(dest / "tagger"),
                    str(dest / "sitecustomize.py")], check=True, stdout=subprocess.DEVNULL)
    return commit


def environment(dest: Path, base: dict | None = None) -> dict:
    """``base`` (default os.environ) with ``dest`` first on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(dest)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                       if p and Path(p).resolve() != dest.resolve()])
    return env


def inside(path: str | None, dest: Path) -> bool:
    return bool(path) and Path(path).resolve().is_relative_to(dest.resolve())


def verify(dest: Path, env: dict) -> dict:
    """Import tagger as a child process with ``env`` and refuse (SystemExit)
    unless every tagger module and the default model folder come from
    ``dest`` and no editable-install finder is left. Returns what it saw."""
    # -P: the current folder is not put on sys.path, as for the tagger command.
    proc = subprocess.run([sys.executable, "-P", "-c", PROBE], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"Error: tagger does not import from {dest}: "
                         f"{proc.stderr.strip()[-1000:]}")
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    wrong = sorted(f"{name} ({path})" for name, path in seen["modules"].items()
                   if path and not inside(path, dest))
    if not inside(seen["model_dir"], dest) or not Path(seen["model_dir"]).is_dir():
        wrong.append(f"model folder {seen['model_dir']}")
    wrong += seen["finders"]
    if wrong:
        raise SystemExit(f"Error: the code exported to {dest} is not what runs there; "
                         "from elsewhere: " + ", ".join(wrong))
    return seen


def use_in_process(dest: Path) -> None:
    """Make this process and those it starts import tagger from ``dest``."""
    sys.path.insert(0, str(HERE))
    from isolate import isolate

    isolate(dest)
    for name in [n for n in sys.modules if n == "tagger" or n.startswith("tagger.")]:
        del sys.modules[name]
    sys.path.insert(0, str(dest))
    os.environ.update(environment(dest))
