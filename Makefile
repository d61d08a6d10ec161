# `make test` and `make stress` set up their own virtual environment when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
WORKERS ?= auto
export HYPOTHESIS_PROFILE ?= ci

.PHONY: test stress venv tools lint clean bench kill-matrix harperdb

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# HarperDB, the real engine of issue 17, from the committed lockfile (node_modules/.bin/harperdb). Not
# `npm ci`: npm 11.19 refuses this lockfile, asking for the other platforms' optional packages that
# harperdb's own shrinkwrap names; `npm install --no-save` installs the locked versions and writes nothing.
# npm runs no install scripts here: lmdb-js and msgpackr come prebuilt, and the server runs without them.
harperdb: node_modules/.installed-stamp

node_modules/.installed-stamp: package.json package-lock.json
	npm install --no-save --no-audit --no-fund
	npm ls harperdb@4.7.29 >/dev/null
	touch $@

# The black-box faults' tools, from Debian when missing (root or sudo): libfiu's fiu-run and strace.
tools:
	@scripts/ensure-fiu >/dev/null
	@scripts/ensure-strace >/dev/null

test: $(STAMP) tools
	$(PY) -m pytest -n $(WORKERS) -q -m "not stress" $(PYTEST_ARGS)

# STRESS_SECONDS (default 120), STRESS_TARGETS, STRESS_MUTANTS, STRESS_WORKERS, STRESS_SEED,
# HYPOTHESIS_REDIS_URL; or STRESS_ARGS="--help".
stress: $(STAMP) tools
	$(PY) -m stress $(STRESS_ARGS)

# The generic search against every mutant on every backend, with shrinking (RocksDB and Lance take minutes per
# mutant, so `make test` runs only LMDB's), and the black-box column (about 80 min more on 2 cores; alone:
# PYTEST_ARGS="-k blackbox_search_column"); writes reports/runs/<id>/mutants.json.
kill-matrix: $(STAMP) tools
	$(PY) -m pytest -n $(WORKERS) -q -m stress tests/test_kill_matrix.py $(PYTEST_ARGS)

# Writes benchmarks/results/latest.json (+ latest.md) and prints the tables; about 10 minutes.
# BENCH_QUICK=1 for a ~1 minute smoke run; BENCH_BACKENDS, BENCH_SECTIONS, BENCH_MUTANT_SEEDS, BENCH_MUTANTS.
bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(PY) -m ruff check model sut faults harness targets reports stress benchmarks tests conftest.py
	$(PY) -m mypy model sut faults harness targets reports stress benchmarks tests conftest.py

clean:
	rm -rf $(VENV) reports/runs/* .pytest_cache .hypothesis
