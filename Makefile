# Two commands do all the set-up on a machine with Python >= 3.10, pip and venv:
#   make demo   create .venv, install landplan, run the main job on the bundled sample
#   make test   create .venv with the dev extras, run lint, type check, tests and doctests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BENCH_N ?= 200000

.PHONY: demo test lint typecheck pytest bench sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/landplan demo

test: $(VENV)/.installed-dev
	$(MAKE) lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench.py --parcels $(BENCH_N)

# Regenerate the committed sample (deterministic).
sample: $(VENV)/.installed
	$(BIN)/landplan synth data/sample_parcels --parcels 12000 --seed 2021 --overwrite

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
