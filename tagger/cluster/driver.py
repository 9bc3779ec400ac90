"""Scan on an existing Ray cluster: decoding and features as Ray tasks on the
cluster's CPUs, the network in Ray actors that load the model once each.

The driver (the process running the scan) keeps its jobs: it walks the
library, consults and writes the SQLite cache, plans and writes tags and
renders reports. Here it only schedules and collects. A decode task's
spectrograms go to a network actor through Ray's object store, never through
the driver, which gets back only the predictions; and at most
IN_FLIGHT_PER_CPU groups of files per cluster CPU are scheduled at once, so the
driver's memory stays flat however large the library.

Inside a decode task the files go through the same crash- and hang-isolating
DecodePool as a local scan (one worker per task slot), so a file that crashes
or hangs its decoder is an error row, not a lost task. A task or actor whose
node dies is retried by Ray (RETRIES times). The tagger package itself travels
with the job (Ray's ``py_modules``), so the nodes run the driver's code; they
need tagger's dependencies installed (``pip install 'tagger[ray]'``). The
model's files travel too: every actor runs exactly the driver's model.

Ray is imported only here, and only when a scan asks for a cluster.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ClusterError
from ..audio.features import FrontEnd
from ..library import is_under
from ..audio.analysis import Decoded
from .node import Classifier, decode_group

DECODE_GROUP = 4  # files per decode task: amortises scheduling, still spreads over CPUs
IN_FLIGHT_PER_CPU = 2  # decode groups scheduled per cluster CPU, so none waits for work
RETRIES = 3  # times Ray re-runs a task or restarts an actor whose node died,
# and times the driver submits again a group whose results were lost
RETRY_PAUSE = 2.0  # s before the first new attempt; n times that before the n-th
CONNECT_TIMEOUT = 10.0  # s to wait for the head node to accept a connection
INSTALL_HINT = "pip install 'tagger[ray]'"


@dataclass(frozen=True)
class ClusterOptions:
    """Where and how a scan runs on Ray.

    ``address`` is a Ray address ("host:port", or "auto" for the cluster this
    machine belongs to). ``path_map`` pairs (local prefix, prefix on the
    nodes) for a library mounted elsewhere on the nodes; with ``ship_audio``
    the driver sends each file's bytes through the object store instead, for
    nodes without the mount."""

    address: str
    path_map: tuple[tuple[str, str], ...] = ()
    ship_audio: bool = False


@dataclass(frozen=True)
class Node:
    """An alive node of the cluster: its Ray id and its CPUs and GPUs."""

    id: str
    cpus: float = 0.0
    gpus: float = 0.0


@dataclass(frozen=True)
class ClusterInfo:
    """The alive nodes of a cluster; its totals are derived from them."""

    nodes: tuple[Node, ...] = ()

    @property
    def cpus(self) -> float:
        return sum(n.cpus for n in self.nodes)

    @property
    def gpus(self) -> float:
        return sum(n.gpus for n in self.nodes)

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes)

    @property
    def gpu_nodes(self) -> tuple[str, ...]:
        """A node's id once per whole GPU it has: where the GPU actors go."""
        return tuple(n.id for n in self.nodes for _ in range(int(n.gpus)))

    def __str__(self) -> str:
        def n(x: float, unit: str) -> str:
            x = int(x) if float(x).is_integer() else x
            return f"{x} {unit}{'' if x == 1 else 's'}"

        return (f"{n(len(self.nodes), 'node')}, {n(self.cpus, 'CPU')}, "
                f"{n(self.gpus, 'GPU')}")


def parse_path_map(text: str) -> tuple[str, str]:
    """"LOCAL=REMOTE" -> (LOCAL, REMOTE), both absolute. ValueError otherwise."""
    local, sep, remote = text.partition("=")
    if not sep or not local or not remote:
        raise ValueError(f"'{text}' is not LOCAL=REMOTE")
    if not os.path.isabs(remote):
        raise ValueError(f"'{remote}' is not an absolute path on the nodes")
    return os.path.abspath(local), os.path.normpath(remote)


def remote_path(path: str, path_map: Iterable[tuple[str, str]]) -> str:
    """``path`` as the nodes see it: the longest matching local prefix (whole
    path components only) replaced by its remote one."""
    best = None
    for local, remote in path_map:
        local = local.rstrip(os.sep) or os.sep
        if is_under(path, local):
            if best is None or len(local) > len(best[0]):
                best = (local, remote)
    if best is None:
        return path
    local, remote = best
    rest = path[len(local):].lstrip(os.sep)
    return os.path.join(remote, rest) if rest else remote


def connect(address: str, verbose: bool = False):
    """Join the Ray cluster at ``address`` as a driver; returns (ray, info).
    ClusterError when Ray is missing or the cluster cannot be reached."""
    try:
        import ray
    except ImportError as e:
        raise ClusterError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from e
    address = _resolve(address)
    _check_reachable(address)
    package = Path(__file__).resolve().parent
    try:
        ray.init(address=address, logging_level=logging.INFO if verbose else logging.ERROR,
                 log_to_driver=verbose, configure_logging=True,
                 runtime_env={"py_modules": [str(package)],
                              "excludes": ["__pycache__", "*.pyc"]})
    except Exception as e:  # noqa: BLE001 - ray raises ConnectionError, RuntimeError, ValueError...
        raise ClusterError(
            f"cannot reach the Ray cluster at '{address}': {_first_line(e)} "
            "(is it running? `ray status` on its head node shows its address)") from e
    return ray, cluster_info(ray)


def _resolve(address: str) -> str:
    """"auto" -> the address of the cluster this machine belongs to (RAY_ADDRESS,
    else the last `ray start` here), as Ray itself resolves it."""
    if address != "auto":
        return address
    try:
        from ray._private.services import canonicalize_bootstrap_address

        found = canonicalize_bootstrap_address(address)
    except Exception:  # noqa: BLE001 - a private helper: any failure means "not found"
        found = None
    if not found:
        raise ClusterError("--ray auto: no Ray cluster found on this machine (start one with "
                           "`ray start --head`, or give its address)")
    return found


def _check_reachable(address: str) -> None:
    """Fail fast when nothing listens at host:port: ray.init would retry for
    minutes before giving up."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        raise ClusterError(f"'{address}' is not a Ray address (host:port, or auto)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT).close()
    except OSError as e:
        raise ClusterError(
            f"cannot reach the Ray cluster at '{address}': {e.strerror or e} "
            "(is it running? `ray status` on its head node shows its address)") from e


def cluster_info(ray) -> ClusterInfo:
    return ClusterInfo(tuple(
        Node(n["NodeID"], n["Resources"].get("CPU", 0), n["Resources"].get("GPU", 0))
        for n in ray.nodes() if n.get("Alive")))


def classify(paths: list[str], fe: FrontEnd, options, cluster: ClusterOptions,
             on_info=None) -> Iterator[tuple[Decoded, object]]:
    """(Decoded, Prediction or None) for each path, in completion order, like
    ``pipeline.classify`` but on the cluster. ``options`` is the scan's
    ScanOptions (model, device, precision, fast, timeout, verbose);
    ``on_info`` is called with the ClusterInfo once connected."""
    ray, info = connect(cluster.address, options.verbose)
    if on_info:
        on_info(info)
    if not info.cpus:
        ray.shutdown()
        raise ClusterError(f"the Ray cluster at '{cluster.address}' has no CPUs to decode on")
    try:
        # The model's files stay referenced while the scan runs: an actor
        # restarted after its node died is built from them again.
        model_files = _model_files(ray, options.model_dir)
        actors = _start_actors(ray, info, fe, options, model_files)
        decode = ray.remote(decode_group).options(num_cpus=1, max_retries=RETRIES)
        limit = max(2, int(IN_FLIGHT_PER_CPU * info.cpus))
        groups = iter([paths[i: i + DECODE_GROUP] for i in range(0, len(paths), DECODE_GROUP)])
        pending: dict = {}  # classify ref -> (paths sent, attempt)
        unread: deque[Decoded] = deque()  # files the driver could not read to ship
        turn = 0

        def submit(group: list[str], attempt: int = 1) -> None:
            nonlocal turn
            tasks, data, failed = _tasks(ray, group, options, cluster)
            unread.extend(failed)
            if not tasks:
                return
            decoded = decode.remote(tasks, fe.to_dict(), options.timeout, options.verbose, *data)
            pending[actors[turn % len(actors)].classify.remote(decoded)] = (
                [local for local, _, _ in tasks], attempt)
            turn += 1

        def fill() -> None:
            while len(pending) < limit:
                group = next(groups, None)
                if group is None:
                    return
                submit(group)

        fill()
        while pending or unread:
            while unread:
                yield unread.popleft(), None
            if not pending:
                fill()
                continue
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                group, attempt = pending.pop(ref)
                try:
                    results = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - Ray raises many kinds
                    # A node died under the group (an actor restarting is
                    # "unavailable" for a while): the work has no side
                    # effects, so it runs again, after a pause, up to
                    # RETRIES times; then its files are error rows and the
                    # scan goes on.
                    if attempt <= RETRIES:
                        time.sleep(RETRY_PAUSE * attempt)
                        submit(group, attempt + 1)
                        continue
                    reason = f"cluster: {_first_line(e)}"
                    results = [(Decoded(path, error=reason), None) for path in group]
                yield from results
                fill()
    finally:
        ray.shutdown()


def _model_files(ray, model_dir):
    """The model folder's files, put in the object store once for all actors."""
    from ..model.card import METADATA, WEIGHTS

    return ray.put({name: (Path(model_dir) / name).read_bytes() for name in (METADATA, WEIGHTS)})


def _start_actors(ray, info: ClusterInfo, fe: FrontEnd, options, model_files) -> list:
    """One network actor per GPU where the cluster has GPUs, else one per
    node on its CPUs. CPU actors reserve no CPU, as the local scan's network
    runs beside its decode pool, so that decode tasks get every CPU."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    cls = ray.remote(Classifier)
    args = (model_files, options.precision, fe.to_dict(), options.fast, options.verbose)
    retry = {"max_restarts": RETRIES, "max_task_retries": RETRIES}
    if info.gpu_nodes and options.device != "cpu":
        return [cls.options(num_gpus=1, num_cpus=0, **retry).remote("gpu", *args)
                for _ in info.gpu_nodes]
    device = "cpu" if options.device == "auto" else options.device
    return [cls.options(num_cpus=0, **retry, scheduling_strategy=NodeAffinitySchedulingStrategy(
                node, soft=True)).remote(device, *args)
            for node in info.node_ids]


def _tasks(ray, group: list[str], options, cluster: ClusterOptions):
    """The decode task's inputs for a group of local paths: (local path, path
    on the node or None when shipped, --fast windows) per file, the shipped
    files' bytes as object refs (resolved by Ray before the task runs), and
    an error row for each file the driver could not read to ship (nothing is
    shipped for it)."""
    from ..audio.chunks import FAST_WINDOWS

    fast = FAST_WINDOWS if options.fast else None
    if not cluster.ship_audio:
        return [(p, remote_path(p, cluster.path_map), fast) for p in group], [], []
    read, failed = read_files(group)
    return ([(p, None, fast) for p, _ in read], [ray.put(data) for _, data in read], failed)


def read_files(paths: list[str]) -> tuple[list[tuple[str, bytes]], list[Decoded]]:
    """(path, bytes) of each file the driver can read, and an error row with
    the reason (``Permission denied``, ``No such file or directory``...) for
    each it cannot: a file gone or changed since the walk."""
    read, failed = [], []
    for path in paths:
        try:
            read.append((path, Path(path).read_bytes()))
        except OSError as e:
            failed.append(Decoded(path, error=e.strerror or str(e)))
    return read, failed


def _first_line(e: BaseException) -> str:
    """The first line of an error, without the colour codes Ray puts in."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip() or type(e).__name__
    return text.splitlines()[0]
