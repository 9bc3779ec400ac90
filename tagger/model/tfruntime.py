"""TensorFlow, imported once, lazily and quietly; its inference functions.

Only the modules that run a network import this, and only when they do, so
``tagger --help`` and ``import tagger`` never load TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading

# TensorFlow's C++ start-up chatter: informational lines on oneDNN, CPU
# instructions and CUDA probes that say nothing is wrong.
_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations|cudart_stub|"
    r"cpu_feature_guard|To enable the following instructions|rebuild TensorFlow with|"
    r"cuda_platform\.cc|failed call to cuInit|Unable to register cu|computation placer|"
    r"TF-TRT Warning|cuda_executor|gpu_device\.cc")


@contextlib.contextmanager
def quiet_native_stderr(verbose: bool = False):
    """Filter TensorFlow's native start-up lines out of stderr, keeping any
    other line. Setting TF_CPP_MIN_LOG_LEVEL inside the process comes too late
    for them, and TF_ENABLE_ONEDNN_OPTS=0 would cost about 40 % of CNN speed."""
    if verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not _NOISE.search(line):
                    sys.stderr.write(line)


_IMPORT_LOCK = threading.Lock()


def import_tensorflow(verbose: bool = False):
    """Import TensorFlow (and probe its devices) with the start-up chatter
    filtered out unless verbose. Thread-safe: the scan imports it in a
    thread while the pool starts, and two overlapping redirections of stderr
    would leave it pointing at the first one's temporary file."""
    with _IMPORT_LOCK, quiet_native_stderr(verbose):
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
        if not verbose:
            tf.get_logger().setLevel("ERROR")
    return tf


def inference_function(tf, *models):
    """x -> models[-1](... models[0](x)), each in inference mode, as one
    traced tf.function (reduce_retracing: inputs of new lengths share a
    graph instead of tracing one each)."""
    def call(x):
        for m in models:
            x = m(x, training=False)
        return x

    return tf.function(call, reduce_retracing=True)
