# Two commands a new user needs (see README "Quick start"):
#   make demo   trains word vectors on the bundled corpus (or explains the losses)
#   make test   runs the whole test suite (and its math under other CPU instruction sets)
#   make docs   builds the API reference site into site/ (strict: any warning fails;
#               formulas become MathML at build time, so the site needs no network)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean docs

$(STAMP): pyproject.toml requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crossent demo

# CPU independence (part of make test): results must not depend on which SIMD kernels the
# CPU picks, so the math and fused tests run again with PyTorch's kernels forced to other
# instruction sets than the machine's own and NumPy's dispatched loops switched off to match:
#   ATEN_CPU_CAPABILITY=default  (no vector kernels; NumPy at its baseline) on every CPU;
#   ATEN_CPU_CAPABILITY=avx2     (NumPy without its AVX-512 loops) where the CPU has AVX-512
#                                (on an AVX2 CPU the main run already is this pass).
# Subset (CPU_TESTS; each pass took 23 s, 31 s of CPU, on an idle 2-core AMD EPYC - 1.5 to
# 5 minutes while 8 jobs shared it - so the two add about a minute): the modules whose
# numbers come from ATen/NumPy kernels - special, losses, info, math edges, properties, nn,
# PyTorch's OpInfo samples, and the fused torch loop (its oracle, native, hostile and
# training-loop tests). Left out: the Triton interpreter, multi-process, torch.compile/inductor, JAX,
# gradcheck (finite differences) and word2vec tests (slow, or their kernels are not chosen
# by ATen's CPU dispatch); the main run above still runs them on the machine's own kernels.
CPU_TESTS := tests/test_special.py tests/test_losses.py tests/test_info.py \
	tests/test_math_edges.py tests/test_properties.py tests/test_nn.py \
	tests/test_torch_opinfo.py tests/fused/test_linear_cross_entropy.py \
	tests/fused/test_native_oracle.py tests/fused/test_hostile.py \
	tests/fused/test_training_loop.py
CPU_PYTEST := $(PY) -m pytest -q -p no:cacheprovider $(CPU_TESTS) \
	-k "not triton and not torch_compile and not gradcheck"

test: $(STAMP)
	$(PY) -m pytest -q
	ATEN_CPU_CAPABILITY=default NPY_DISABLE_CPU_FEATURES="$$($(PY) .ci/npy_disable.py default)" \
		$(CPU_PYTEST)
	if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then \
		ATEN_CPU_CAPABILITY=avx2 NPY_DISABLE_CPU_FEATURES="$$($(PY) .ci/npy_disable.py avx2)" \
			$(CPU_PYTEST); fi
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache crossent-demo site
