# Two commands do all the set-up: `make run` and `make test`.
# Both create .venv with the interpreter below and install the exact versions
# pinned in requirements.lock (re-installing only when the lock or pyproject changes).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= configs/default.yaml

.PHONY: install run clean-corpus test chromium bench verify lock clean docs

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $@

# `make run FLAGS=--force` replaces a run folder made from another config (see README).
run: $(STAMP)
	$(BIN)/python -m policytopics run $(CONFIG) $(FLAGS)

clean-corpus: $(STAMP)
	$(BIN)/python -m policytopics clean $(CONFIG)

test: $(STAMP) chromium
	$(BIN)/python -m pytest

# tests/test_browser.py opens the run's HTML pages in Debian's headless Chromium (playwright
# drives it; no browser download). Install it with apt-get when it is missing and we can
# (root, apt-get present); otherwise say why the browser test will be skipped and go on.
CHROMIUM     ?= /usr/bin/chromium
CHROMIUM_CMD ?= chromium
APT_GET      := DEBIAN_FRONTEND=noninteractive apt-get -qq -o Dpkg::Use-Pty=0
chromium:
	@if [ -x "$(CHROMIUM)" ] || command -v "$(CHROMIUM_CMD)" >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "make: $(CHROMIUM) is missing and we are not root: tests/test_browser.py will be skipped (install it: sudo apt-get install chromium)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "make: $(CHROMIUM) is missing and there is no apt-get: tests/test_browser.py will be skipped"; \
	else \
		echo "make: installing Debian's chromium for tests/test_browser.py (apt-get)"; \
		if $(APT_GET) update && $(APT_GET) install -y --no-install-recommends chromium >/dev/null; then :; \
		else echo "make: 'apt-get install chromium' failed: tests/test_browser.py will be skipped"; fi; \
	fi

# Re-run the default config and fail on any difference from the committed results/default.
verify: $(STAMP)
	$(BIN)/python scripts/verify_results.py configs/default.yaml results/default

# Benchmarks write benchmarks/results/*.csv and *.md (not part of the test suite):
# tokenisation throughput, then every stage's seconds and peak memory of the whole pipeline
# against a hand-written reference, on the seeds, the city reports and the city reports
# repeated SCALES times (about an hour with 50x, half of it the reference pipeline at 50x:
# `make bench SCALES="1 10"` for less).
SCALES ?= 1 10 50
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_tokenize.py
	$(BIN)/python benchmarks/bench_pipeline.py --scales $(SCALES)

# Regenerate docs/configuration.md from the config schema (tests/test_docs.py fails when it is stale).
docs: $(STAMP)
	$(BIN)/python scripts/config_docs.py

# Re-resolve the pins from pyproject.toml in a throw-away venv (run by a maintainer, then commit).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]"
	printf '%s\n' "# Exact versions installed by 'make' (pip install -c requirements.lock -e .[dev])." \
		"# Regenerate with 'make lock' after changing dependencies in pyproject.toml." > requirements.lock
	.lockenv/bin/python -m pip freeze --exclude policytopics | sort -f >> requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .cache build src/*.egg-info
