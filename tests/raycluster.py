"""A real Ray cluster of several nodes on this machine, reachable from nothing
else: the tests of ``tagger scan --ray`` and ``benchmarks/cluster.py`` use it.

The cluster runs in a network namespace of its own that holds only a loopback
interface, so every server Ray starts listens on 127.0.0.1 and nothing outside
the namespace can reach it: ``ray start --head --node-ip-address=127.0.0.1
--port P --num-cpus N``, then each further node with ``ray start --address
127.0.0.1:P --num-cpus N``. Programs that use the cluster run inside the
namespace too (``Cluster.command``). When the context ends, every process in
the namespace is stopped (the namespace names exactly the cluster's
processes, so a Ray cluster the user runs elsewhere on the machine is left
alone) and the namespace is removed. Needs root (``ip netns``) and Ray.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PORT = 6390  # the head's port, inside the namespace (nothing else listens there)
START_TIMEOUT = 180  # s for one `ray start` on a loaded 2-core machine
STOP_GRACE = 20.0  # s between SIGTERM and SIGKILL when stopping


def unavailable() -> str | None:
    """Why a cluster cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root, for a network namespace of its own"
    if shutil.which("ip") is None:
        return "needs `ip` (iproute2)"
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install '.[ray]')"
    return None


@dataclass
class Cluster:
    namespace: str
    address: str
    env: dict

    def command(self, args: list[str]) -> list[str]:
        """``args`` run inside the cluster's namespace."""
        return ["ip", "netns", "exec", self.namespace, *args]

    def run(self, args: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(args), env=self.env, capture_output=True, text=True,
                              timeout=timeout, **kw)

    def pids(self) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", self.namespace], capture_output=True,
                             text=True).stdout
        return [int(p) for p in out.split()]

    def worker_node_pids(self) -> list[int]:
        """The first node started after the head: its raylet (started without
        --head) and every process below it (its workers and agents)."""
        pids = self.pids()
        raylets = [p for p in pids if _cmdline(p)[:1] and _cmdline(p)[0].endswith("/raylet")
                   and "--head" not in _cmdline(p)]
        if not raylets:
            return []
        parents = {p: _ppid(p) for p in pids}
        tree, grew = {min(raylets)}, True
        while grew:
            grew = False
            for p, parent in parents.items():
                if parent in tree and p not in tree:
                    tree.add(p)
                    grew = True
        return sorted(tree)


@contextlib.contextmanager
def local_cluster(nodes: int = 2, cpus_per_node: int = 1, pythonpath: str | None = None):
    """A running cluster of ``nodes`` nodes (the head included)."""
    reason = unavailable()
    if reason:
        raise RuntimeError(f"a local Ray cluster {reason}")
    namespace = f"tagger-ray-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    # A short temp dir: Ray's unix socket paths must stay under 108 bytes.
    temp = tempfile.mkdtemp(prefix="tray-", dir="/tmp")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_ADDRESS": ""}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cluster = Cluster(namespace, f"127.0.0.1:{PORT}", env)
    ray = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    try:
        subprocess.run(cluster.command(["ip", "link", "set", "lo", "up"]), check=True)
        for n in range(nodes):
            where = (["--head", f"--port={PORT}", "--include-dashboard=false",
                      "--disable-usage-stats", f"--temp-dir={temp}"] if n == 0
                     else [f"--address={cluster.address}"])
            started = cluster.run([ray, "start", *where, "--node-ip-address=127.0.0.1",
                                   f"--num-cpus={cpus_per_node}"], timeout=START_TIMEOUT)
            if started.returncode != 0:
                raise RuntimeError(f"ray start failed: {started.stdout}{started.stderr}")
        yield cluster
    finally:
        _stop(cluster)
        subprocess.run(["ip", "netns", "del", namespace])
        shutil.rmtree(temp, ignore_errors=True)


def _stop(cluster: Cluster) -> None:
    """Stop every process of the namespace: SIGTERM, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 10.0)):
        for pid in cluster.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while cluster.pids() and time.monotonic() < deadline:
            time.sleep(0.2)


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1
