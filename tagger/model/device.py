"""Where and at what precision a network runs: the device TensorFlow should
use and whether the CPU computes bfloat16 natively (from /proc/cpuinfo)."""

from __future__ import annotations

import os

from ..errors import ModelError
from .tfruntime import import_tensorflow

DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("auto", "float32", "bfloat16")


def resolve_device(tf, device: str) -> str:
    """'auto' -> the first GPU TensorFlow sees, else the CPU."""
    if device not in DEVICES:
        raise ModelError(f"unknown device '{device}' (choose from {', '.join(DEVICES)})")
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise ModelError("--device gpu: TensorFlow sees no GPU (is tensorflow[and-cuda] installed?)")
    if device in ("gpu", "auto") and gpus:
        return "/GPU:0"
    return "/CPU:0"


def native_bfloat16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes bfloat16 natively (x86 AVX512-BF16 or AMX),
    from /proc/cpuinfo's flags; False where that cannot be read (other
    systems), since emulated bfloat16 is slower than float32."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def precision_on(device: str, precision: str, verbose: bool = False) -> str:
    """The precision a GenreModel built with this ``device`` ('auto', 'cpu',
    'gpu') and ``precision`` runs at (imports TensorFlow to see the GPUs)."""
    return resolve_precision(resolve_device(import_tensorflow(verbose), device), precision)


def resolve_precision(device: str, precision: str, cpuinfo: str | None = None) -> str:
    """'auto' -> bfloat16 on a CPU that computes it natively, else float32
    (GPUs included: their mixed precision is not measured here). Without
    oneDNN (TF_ENABLE_ONEDNN_OPTS=0) bfloat16 is slower than float32
    (benchmarks/network.py: 322 vs 295 ms), so auto keeps float32 there."""
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision '{precision}' (choose from {', '.join(PRECISIONS)})")
    if precision != "auto":
        return precision
    on_cpu = not device.upper().startswith("/GPU")
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip() != "0"
    return "bfloat16" if on_cpu and onednn and native_bfloat16(cpuinfo) else "float32"
