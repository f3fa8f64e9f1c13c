# Two commands do all the set-up: `make run` and `make test`.
# Both create .venv with the interpreter below and install the exact versions
# pinned in requirements.lock (re-installing only when the lock or pyproject changes).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= configs/default.yaml

.PHONY: install run clean-corpus test bench verify lock clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $@

run: $(STAMP)
	$(BIN)/python -m policytopics run $(CONFIG)

clean-corpus: $(STAMP)
	$(BIN)/python -m policytopics clean $(CONFIG)

test: $(STAMP)
	$(BIN)/python -m pytest

# Re-run the default config and fail on any difference from the committed results/default.
verify: $(STAMP)
	$(BIN)/python scripts/verify_results.py configs/default.yaml results/default

# Benchmarks write benchmarks/results/*.csv and *.md (not part of the test suite).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_tokenize.py

# Re-resolve the pins from pyproject.toml in a throw-away venv (run by a maintainer, then commit).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]"
	.lockenv/bin/python -m pip freeze --exclude policytopics | sort -f > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .cache build src/*.egg-info
