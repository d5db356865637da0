#!/usr/bin/env bash
# One prepared device run: install the carried wheels (peers + array-api-compat), run the
# Triton tests on CUDA, then the side-by-side benchmark. Output also goes to $OUT.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
timeout 200 python3 -m pytest -q -x -W default -p no:cacheprovider -m "not slow" \
  tests/fused/test_triton.py tests/fused/test_compile.py \
  2>&1 | tail -25 | tee "${OUT:-/tmp}/tests.txt"
timeout 380 python3 benchmarks/bench_fused_gpu.py 200 2>&1 | tee "${OUT:-/tmp}/bench.txt"
timeout 300 python3 benchmarks/bench_softmax_gpu.py 2>&1 | tee "${OUT:-/tmp}/softmax_gpu.txt"
