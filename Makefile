# Two commands do all the set-up on a machine with Python >= 3.10, pip and venv:
#   make demo   create .venv, install landplan, run the main job on the bundled sample
#   make test   create .venv with the dev extras, install QGIS where it can (Debian, as root),
#               run lint, type check, tests, doctests and the notebooks
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BENCH_SIZES ?= 200000,1000000,2000000

.PHONY: demo test lint typecheck pytest qgis chromium bench qgis-plugin sample clean

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

test: $(VENV)/.installed-dev qgis chromium
	$(MAKE) lint typecheck pytest

# numpydoc checks the Parameters/Returns/Raises sections of the library's public API;
# the CLI's docstrings are its --help text instead.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks qgis_plugin
	$(BIN)/ruff format --check src tests benchmarks qgis_plugin
	$(BIN)/numpydoc lint $$(find src/landplan -name '*.py' ! -name cli.py | sort)

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest

# Real QGIS for the tests of what QGIS users see (Debian's packages; PyQGIS runs under
# /usr/bin/python3). Installed when missing and possible; without it those tests skip,
# unless LANDPLAN_REQUIRE_QGIS=1 (as in CI).
qgis:
	@if /usr/bin/python3 -c 'import qgis.core' 2>/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing QGIS (python3-qgis qgis) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-qgis qgis >/dev/null; \
	else echo "QGIS not installed and cannot be installed here: its tests will be skipped"; fi

# Headless Chromium renders report.html in tests/test_report_html.py (Debian's package).
# Installed when missing and possible; without it that test skips, saying why.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Chromium (chromium) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium not installed and cannot be installed here: report.html browser tests will be skipped"; fi

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench.py --sizes $(BENCH_SIZES)

# The QGIS Processing provider as a zip for "Install from ZIP".
qgis-plugin:
	$(PYTHON) qgis_plugin/package.py dist/landplan_processing.zip

# Regenerate the committed sample (deterministic).
sample: $(VENV)/.installed
	$(BIN)/landplan synth data/sample_parcels --count 12000 --seed 2021 --overwrite

clean:
	rm -rf $(VENV) out dist .pytest_cache .mypy_cache .ruff_cache
