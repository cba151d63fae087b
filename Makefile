# deepcourse: `make tour` runs every quick experiment and writes the report; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DEEPCOURSE_DATA ?= $(abspath ../shared/data)

.PHONY: setup tour test test-slow bench report clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

tour: setup
	$(VENV)/bin/deepcourse tour

test: setup
	$(PY) -m pytest -q -p no:cacheprovider --timeout=900

test-slow: setup
	$(PY) -m pytest -q -p no:cacheprovider -m slow --timeout=3600

bench: setup
	$(PY) -m pip install -q -e '.[dev,bench]'
	@for f in benchmarks/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

report: setup
	$(VENV)/bin/deepcourse report runs results

clean:
	rm -rf runs report .pytest_cache build dist src/*.egg-info
