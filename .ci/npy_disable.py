"""Print the NumPy dispatch targets to switch off for a CPU pass of ``make test``.

``default``: every dispatched target (NumPy at its baseline loops); ``avx2``: the targets
beyond AVX2 (AVX-512). Only names this NumPy build dispatches are printed, so
``NPY_DISABLE_CPU_FEATURES`` never names a target NumPy does not know (that is an error
at import).
"""

import sys

from numpy._core._multiarray_umath import __cpu_dispatch__

level = sys.argv[1]
if level not in ("default", "avx2"):
    raise SystemExit(f"level: expected default or avx2, got {level!r}")
keep_upto_avx2 = {"X86_V3", "AVX2", "FMA3", "AVX", "F16C", "AVX2_FMA3"}
names = [t for t in __cpu_dispatch__ if level == "default" or t not in keep_upto_avx2]
print(" ".join(names))
