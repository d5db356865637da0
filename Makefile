# Two commands a new user needs (see README "Quick start"):
#   make demo   trains word vectors on the bundled corpus (or explains the losses)
#   make test   runs the whole test suite
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

test: $(STAMP)
	$(PY) -m pytest -q
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
