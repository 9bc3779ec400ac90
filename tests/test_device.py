import pytest

from tagger.model.device import native_bfloat16, resolve_precision
from tagger.errors import ModelError


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu vme sse2 avx2 avx512f avx512bw {extra} xsave
bogomips\t: 4792.79
"""


@pytest.mark.parametrize("extra, expected", [("avx512_bf16", True), ("amx_bf16 amx_tile", True),
                                             ("avx512vnni", False)])
def test_native_bfloat16_from_the_cpu_flags(extra, expected):
    assert native_bfloat16(CPUINFO.format(extra=extra)) is expected
    assert native_bfloat16("processor : 0\n") is False


def test_precision_auto_is_bfloat16_only_on_a_cpu_that_has_it(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    has, lacks = CPUINFO.format(extra="avx512_bf16"), CPUINFO.format(extra="")
    assert resolve_precision("/CPU:0", "auto", has) == "bfloat16"
    assert resolve_precision("/CPU:0", "auto", lacks) == "float32"
    assert resolve_precision("/GPU:0", "auto", has) == "float32"
    assert resolve_precision("/CPU:0", "bfloat16", lacks) == "bfloat16"
    assert resolve_precision("/GPU:0", "float32", has) == "float32"
    # TensorFlow without oneDNN computes bfloat16 slower than float32.
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert resolve_precision("/CPU:0", "auto", has) == "float32"
    assert resolve_precision("/CPU:0", "bfloat16", has) == "bfloat16"
    with pytest.raises(ModelError, match="unknown precision 'half'"):
        resolve_precision("/CPU:0", "half")
