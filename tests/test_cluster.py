"""`tagger scan --ray` on a real two-node Ray cluster.

Two nodes of one CPU each, in a loopback-only network namespace (see
raycluster.py); the scans run as real `tagger` processes inside it. Needs
root (for `ip netns`) and Ray (`pip install '.[ray]'`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

import raycluster
from audiofiles import make_audio
from tagger.cli import app
from tagger.cluster.driver import ClusterOptions

REPO = Path(__file__).resolve().parent.parent
SCAN_TIMEOUT = 600  # s for one scan on the cluster
# Files for a scan long enough to be interrupted in the middle: name -> (s, kind, codec).
# Each file distinct (the second six are 1 s longer): identical files would be
# analysed once and the others given their result (#23.6), not sent to the cluster.
LIBRARY = {f"{i:02d} {kind}.{ext}": (8.0 + i // 6, kind, codec)
           for i, (kind, ext, codec) in enumerate(
               [("drums", "flac", None), ("tone", "mp3", None), ("noise", "ogg", None),
                ("drums", "m4a", "aac"), ("tone", "wav", None), ("drums", "opus", None)] * 2)}

@pytest.fixture(scope="module")
def cluster():
    reason = raycluster.unavailable()
    if reason:
        pytest.skip(f"the Ray cluster tests {reason}")
    with raycluster.local_cluster(nodes=2, cpus_per_node=1, pythonpath=str(REPO)) as c:
        yield c


def tagger(cluster, *args: str) -> list[str]:
    return cluster.command([sys.executable, "-m", "tagger", *args])


def run(cluster, args: list[str]) -> subprocess.CompletedProcess:
    return cluster.run(args, timeout=SCAN_TIMEOUT)


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-library")
    for name, (seconds, kind, codec) in LIBRARY.items():
        make_audio(root / name, seconds, kind, codec=codec)
    return root


@pytest.fixture(scope="module")
def local_results(library, tmp_path_factory) -> dict:
    """The same files through a local scan, in this process."""
    db = tmp_path_factory.mktemp("local") / "cache.db"
    report = db.parent / "local.json"
    result = CliRunner().invoke(app, ["scan", str(library), "--db", str(db), "-q",
                                      "--report", str(report)])
    assert result.exit_code == 0, result.output
    return _by_path(report)


def _by_path(report: Path) -> dict:
    return {r["path"]: r for r in json.loads(report.read_text())}


def _assert_same(local: dict, remote: dict) -> None:
    assert set(remote) == set(local)
    for path, r in remote.items():
        assert r["status"] == "ok", (path, r["error"])
        assert r["genres"][0]["genre"] == local[path]["genres"][0]["genre"], path
        here = {g["genre"]: g["confidence"] for g in local[path]["genres"]}
        for g in r["genres"]:
            assert abs(g["confidence"] - here[g["genre"]]) <= 0.01, (path, g)


@pytest.mark.ray  # a real two-node cluster
def test_a_scan_on_the_cluster_gives_the_local_results(cluster, library, local_results, tmp_path):
    report = tmp_path / "ray.json"
    proc = run(cluster, tagger(cluster, "scan", str(library), "--db", str(tmp_path / "c.db"),
                                      "--ray", cluster.address, "-q", "--report", str(report)))
    assert proc.returncode == 0, proc.stderr
    _assert_same(local_results, _by_path(report))
    assert "Ray cluster: 2 nodes, 2 CPUs, 0 GPUs" in proc.stdout
    assert f"{len(LIBRARY)} files found: {len(LIBRARY)} analysed" in proc.stdout


def _scan_until_first_result(cluster, args: list[str]) -> subprocess.Popen:
    """Start a scan on the cluster; return once it has reported one file
    (plain progress lines go to stderr when it is not a terminal)."""
    proc = subprocess.Popen(tagger(cluster, *args), env=cluster.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + SCAN_TIMEOUT
    for line in proc.stderr:
        if line.startswith("[1/"):
            return proc
        assert time.monotonic() < deadline, "no result in time"
    pytest.fail(f"the scan ended before its first result: {proc.wait()}")


@pytest.mark.ray  # a real two-node cluster
def test_the_scan_completes_when_a_worker_node_dies(cluster, library, local_results, tmp_path):
    report, db = tmp_path / "ray.json", tmp_path / "c.db"
    proc = _scan_until_first_result(cluster, ["scan", str(library), "--db", str(db), "--ray",
                                              cluster.address, "--report", str(report)])
    victims = cluster.worker_node_pids()
    assert victims, "no worker node found"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=SCAN_TIMEOUT)
    assert proc.returncode == 0, err
    _assert_same(local_results, _by_path(report))
    # The cluster lost a node for good: the next scans run on the head alone.
    assert not set(victims) & set(cluster.pids())


@pytest.mark.ray  # a real two-node cluster
def test_a_killed_driver_resumes_without_analysing_twice(cluster, library, local_results,
                                                          tmp_path):
    db = tmp_path / "c.db"
    args = ["scan", str(library), "--db", str(db), "--ray", cluster.address]
    proc = _scan_until_first_result(cluster, args)
    proc.kill()
    proc.wait()
    report = tmp_path / "ray.json"
    again = run(cluster, tagger(cluster, *args, "-q", "--report", str(report)))
    assert again.returncode == 0, again.stderr
    done = _by_path(report)
    _assert_same(local_results, done)
    cached = sum(r["from_cache"] for r in done.values())
    assert cached >= 1
    assert f"{len(LIBRARY) - cached} analysed, {cached} from cache" in again.stdout


@pytest.mark.ray  # a real two-node cluster
def test_path_map_and_ship_audio(cluster, library, local_results, tmp_path):
    """The nodes read the mapped path; with --ship-audio they read nothing
    from disk: the same mapping to a folder that does not exist still works."""
    mirror = tmp_path / "mounted-elsewhere"
    shutil.copytree(library, mirror)
    mapped = run(cluster, tagger(cluster, 
        "scan", str(library), "--db", str(tmp_path / "a.db"), "--ray", cluster.address, "-q",
        "--path-map", f"{library}={mirror}", "--report", str(tmp_path / "a.json")))
    assert mapped.returncode == 0, mapped.stderr
    _assert_same(local_results, _by_path(tmp_path / "a.json"))

    nowhere = tmp_path / "not-mounted"
    broken = run(cluster, tagger(cluster, 
        "scan", str(library), "--db", str(tmp_path / "b.db"), "--ray", cluster.address, "-q",
        "--path-map", f"{library}={nowhere}", "--report", str(tmp_path / "b.json")))
    assert broken.returncode == 1
    rows = _by_path(tmp_path / "b.json")
    assert set(rows) == set(local_results)  # reported under their local paths
    assert {r["status"] for r in rows.values()} == {"error"}

    shipped = run(cluster, tagger(cluster, 
        "scan", str(library), "--db", str(tmp_path / "c.db"), "--ray", cluster.address, "-q",
        "--path-map", f"{library}={nowhere}", "--ship-audio", "--report", str(tmp_path / "c.json")))
    assert shipped.returncode == 0, shipped.stderr
    _assert_same(local_results, _by_path(tmp_path / "c.json"))


# A driver whose files change after the walk (and the cache's fingerprints)
# but before they are shipped: one goes, one becomes a folder, one loses its
# read permission. It runs without root's right to read any file (see
# unprivileged.py), so the mode applies.
CHANGING_DRIVER = """
import os, sys
import tagger.cluster.driver
from tagger.cli import app

gone, folder, locked = sys.argv[1:4]
real = tagger.cluster.driver.classify

def classify(*args, **kwargs):
    os.remove(gone)
    os.remove(folder)
    os.mkdir(folder)
    os.chmod(locked, 0)
    return real(*args, **kwargs)

tagger.cluster.driver.classify = classify
app(args=sys.argv[4:], prog_name="tagger")
"""


@pytest.mark.ray  # a real two-node cluster
def test_ship_audio_reports_a_file_the_driver_cannot_read_with_its_reason(
        cluster, library, local_results, tmp_path):
    from unprivileged import without_file_mode_rights

    lib = tmp_path / "lib"
    shutil.copytree(library, lib)
    victims = {lib / "90 gone.flac": "No such file or directory",
               lib / "91 folder.flac": "Is a directory",
               lib / "92 locked.flac": "Permission denied"}
    for i, path in enumerate(victims):  # each its own music: a copy would take its twin's result
        make_audio(path, 3.0 + i, "drums")
    report = tmp_path / "ray.json"
    proc = subprocess.run(
        cluster.command([sys.executable, "-c", CHANGING_DRIVER, *map(str, victims), "scan",
                         str(lib), "--db", str(tmp_path / "c.db"), "--ray", cluster.address,
                         "--ship-audio", "-q", "--report", str(report)]),
        env=cluster.env, capture_output=True, text=True, timeout=SCAN_TIMEOUT,
        preexec_fn=without_file_mode_rights)
    assert proc.returncode == 1, proc.stderr
    rows = _by_path(report)
    assert {str(path): rows.pop(str(path))["error"] for path in victims} == {
        str(path): reason for path, reason in victims.items()}
    # The batch went on: every other file as in a local scan.
    _assert_same({str(lib / Path(p).name): r for p, r in local_results.items()}, rows)
    assert f"{len(LIBRARY) + 3} files found: {len(LIBRARY)} analysed, 0 from cache, 3 failed" in (
        proc.stdout)


# --- without a cluster -------------------------------------------------------


def test_an_unreachable_cluster_is_one_error_line(library, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(app, ["scan", str(library), "--db", str(tmp_path / "c.db"),
                                      "--ray", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot reach the Ray cluster at '127.0.0.1:{port}'")
    assert "Traceback" not in result.output


def test_without_ray_installed_the_error_says_what_to_install(library, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    result = CliRunner().invoke(app, ["scan", str(library), "--db", str(tmp_path / "c.db"),
                                      "--ray", "127.0.0.1:6379"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: --ray needs Ray, which is not installed: pip install 'tagger[ray]'")


@pytest.mark.parametrize("args, message", [
    (["--path-map", "/a=/b"], "--path-map and --ship-audio go with --ray ADDRESS"),
    (["--ray", "auto", "--path-map", "nonsense"], "--path-map: 'nonsense' is not LOCAL=REMOTE"),
    (["--ray", "auto", "--path-map", "/a=relative"],
     "--path-map: 'relative' is not an absolute path on the nodes"),
])
def test_cluster_usage_errors(library, tmp_path, args, message):
    result = CliRunner().invoke(app, ["scan", str(library), "--db", str(tmp_path / "c.db"), *args])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {message}"


def test_the_driver_ships_only_what_it_can_read_and_makes_the_error_rows(tmp_path):
    """--ship-audio: a file the driver cannot read is an error row with the
    reason, made on the driver; nothing is shipped for it (it used to ship
    b"", which the node reported as an empty file)."""
    from types import SimpleNamespace

    from tagger.cluster.driver import _tasks
    from tagger.pipeline import ScanOptions

    ok = tmp_path / "a.flac"
    make_audio(ok, 1.0, "tone")
    folder = tmp_path / "b.flac"
    folder.mkdir()
    gone = tmp_path / "c.flac"
    ray = SimpleNamespace(put=lambda data: ("ref", data))
    group = [str(ok), str(folder), str(gone)]
    tasks, data, failed = _tasks(ray, group, ScanOptions(), ClusterOptions("x:1", ship_audio=True))
    assert tasks == [(str(ok), None, None)]
    assert data == [("ref", ok.read_bytes())]
    assert [(d.path, d.error, d.spec) for d in failed] == [
        (str(folder), "Is a directory", None), (str(gone), "No such file or directory", None)]
    # Without --ship-audio the driver reads nothing: the nodes report.
    tasks, data, failed = _tasks(ray, group, ScanOptions(), ClusterOptions("x:1"))
    assert [t[:2] for t in tasks] == [(p, p) for p in group] and data == failed == []


@pytest.mark.parametrize("path, expected", [
    ("/music/a/b.flac", "/mnt/nas/a/b.flac"),
    ("/music", "/mnt/nas"),
    ("/musical/b.flac", "/musical/b.flac"),  # whole path components only
    ("/music/classical/x.ogg", "/srv/classical/x.ogg"),  # the longest prefix wins
    ("/other/c.mp3", "/other/c.mp3"),
])
def test_remote_path(path, expected):
    from tagger.cluster.driver import remote_path

    mapping = (("/music", "/mnt/nas"), ("/music/classical", "/srv/classical"))
    assert remote_path(path, mapping) == expected


def test_cluster_info_names_nodes_and_resources():
    from tagger.cluster.driver import ClusterInfo, Node

    assert str(ClusterInfo((Node("a", 1.0), Node("b", 1.0)))) == "2 nodes, 2 CPUs, 0 GPUs"
    assert str(ClusterInfo((Node("a", 8.0, 1.0),))) == "1 node, 8 CPUs, 1 GPU"
    assert str(ClusterInfo((Node("a", 0.5), Node("b", 1.0), Node("c")))) == (
        "3 nodes, 1.5 CPUs, 0 GPUs")


def test_cluster_info_derives_every_figure_from_the_alive_nodes():
    """One place holds each node's resources: the totals, the node ids and
    the GPU actors' places (a node once per whole GPU) follow from it."""
    from types import SimpleNamespace

    from tagger.cluster.driver import cluster_info

    nodes = [{"NodeID": "a", "Alive": True, "Resources": {"CPU": 8.0, "GPU": 2.0}},
             {"NodeID": "b", "Alive": True, "Resources": {"CPU": 4.0}},
             {"NodeID": "c", "Alive": False, "Resources": {"CPU": 16.0, "GPU": 4.0}},
             {"NodeID": "d", "Alive": True, "Resources": {"CPU": 2.0, "GPU": 1.5}}]
    info = cluster_info(SimpleNamespace(nodes=lambda: nodes))
    assert (info.cpus, info.gpus) == (14.0, 3.5)
    assert info.node_ids == ("a", "b", "d")
    assert info.gpu_nodes == ("a", "a", "d")
    assert str(info) == "3 nodes, 14 CPUs, 3.5 GPUs"
    gpu_less = replace(info, nodes=info.nodes[1:2])
    assert (gpu_less.gpus, gpu_less.gpu_nodes) == (0, ())
