"""Compile the Triton kernels for a CUDA target with no GPU present (run as a script).

The interpreter (``TRITON_INTERPRET=1``) runs the kernels' Python semantics but not the
compiler's type checks and lowering; this compiles each kernel variant to a cubin for
``sm_90`` (ptxas ships with triton's Linux wheel) and exits non-zero on the first failure.
Used by ``test_triton.py::test_kernels_compile_for_cuda``.
"""

from __future__ import annotations

import itertools
import sys

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from crossent.fused.triton import kernels

# Argument types by name; pointers to the logits / targets depend on the variant.
TYPES = {
    "CW": "*fp32",
    "CWSUM": "*fp32",
    "SCE": "*fp32",
    "SZ": "*fp32",
    "SENT": "*fp32",
    "OUT": "*fp32",
    "V": "i32",
    "col0": "i32",
    "width": "i32",
    "ignore_index": "i64",
    "eps": "fp32",
    "zloss": "fp32",
    "cap": "fp32",
    "inv_t": "fp32",
}


def compile_all(dtypes: list[str]) -> int:
    target = GPUTarget("cuda", 90, 32)
    count = 0
    for dt, cls, cw, cap, write in itertools.product(dtypes, *[[True, False]] * 4):
        # the entropy gradient's branch rides along with the softcap's (both values covered)
        flags = {"CLASS": cls, "HAS_CW": cw, "HAS_CAP": cap, "HAS_ENT": cap, "BLOCK_V": 1024}
        variants = [(kernels.row_kernel, dict(flags, WRITE_GRAD=write))]
        if write:
            variants.append((kernels.grad_kernel, flags))
        for fn, consts in variants:
            names = fn.arg_names
            sig = {}
            for name in names:
                if name in consts:
                    sig[name] = "constexpr"
                elif name == "Z":
                    sig[name] = f"*{dt}"
                elif name == "Y":
                    sig[name] = "*i64" if cls else f"*{dt}"
                else:
                    sig[name] = TYPES.get(name, "i64")  # strides
            constexprs = {(names.index(k),): v for k, v in consts.items()}
            triton.compile(
                ASTSource(fn=fn, signature=sig, constexprs=constexprs),
                target=target,
                options={"num_warps": 4},
            )
            count += 1
    return count


if __name__ == "__main__":
    print(f"compiled {compile_all(sys.argv[1:] or ['bf16'])} kernel variants for sm_90")
