# `make test` and `make stress` set up their own virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
WORKERS ?= auto
export HYPOTHESIS_PROFILE ?= ci

.PHONY: test stress venv lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n $(WORKERS) -q -m "not stress" $(PYTEST_ARGS)

stress: $(STAMP)
	@echo "make stress is not built yet (issue 8). Until then: HYPOTHESIS_PROFILE=nightly make test" >&2
	@exit 2

lint: $(STAMP)
	$(PY) -m ruff check model sut faults reports tests conftest.py

clean:
	rm -rf $(VENV) reports/runs/* .pytest_cache .hypothesis
