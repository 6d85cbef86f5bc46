# Two entry points: `make demo` and `make test`. Each does all of its own set-up on a fresh
# Debian 12 machine with Python 3.11 (system packages, virtual environment, Python packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# chromium: the console's browser tests (Playwright drives Debian's build; no browser download).
# postgresql: the tests start their own throw-away PostgreSQL 15 cluster (tests/pg_kit.py).
DEB_PACKAGES := libzbar0 libgl1 libegl1 libmtdev1 xvfb fonts-noto-cjk poppler-utils espeak-ng chromium postgresql
DEMO_DIR ?= demo-data

.PHONY: demo test test-fast test-midnight lint bench setup deps venv clean screenshots

# A new demo community every time (its devices are enrolled afresh), a short tour of it, then the
# whole system: the office server, a merchant tablet and a kiosk; with no display the office keeps
# running (Ctrl-C ends it).
demo: setup
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(PY) -m office demo --db $(DEMO_DIR)/community.sqlite
	$(PY) -m office tour --db $(DEMO_DIR)/community.sqlite
	$(PY) -m demo --dir $(DEMO_DIR)

# One test process per core (pytest-xdist), each file's tests in one process (--dist loadfile) so
# module fixtures are built once; every process starts its own PostgreSQL cluster.
PYTEST_PARALLEL ?= -n auto --dist loadfile

test: setup lint
	$(PY) -m pytest -q $(PYTEST_PARALLEL)

# The guard rails: ruff, and the import contracts of docs/architecture.md (import-linter).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# For developers: skip the slow end-to-end tests (CI runs everything through `make test`).
test-fast: setup lint
	$(PY) -m pytest -q $(PYTEST_PARALLEL) -m "not slow"

# The fast suite with the wall clock just before midnight in Chongqing at the end of a week and
# of a month (libfaketime, as an offset so the server and CLI subprocesses share one clock): a
# test that reads the wall clock twice and assumes one local day fails here.
MIDNIGHTS ?= 2026-11-29T15:59:30Z 2026-11-30T15:59:30Z
test-midnight: setup
	@dpkg -s faketime >/dev/null 2>&1 || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends faketime; }
	@for at in $(MIDNIGHTS); do \
	  echo "== wall clock $$at"; \
	  FAKETIME="$$(( $$(date -d $$at +%s) - $$(date +%s) ))s" \
	  LD_PRELOAD=$$(dpkg -L libfaketime | grep '/libfaketime.so.1$$') \
	  $(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests/bank tests/sync tests/office tests/terminal tests/kiosk tests/device || exit 1; \
	done

bench: setup
	$(PY) -m bench.ledger
	$(PY) -m bench.ingest
	$(PY) -m bench.redeem
	$(PY) -m bench.kiosk
	$(PY) -m bench.scan
	$(PY) -m bench.console
	$(PY) -m bench.pulls
	$(PY) -m bench.imports
	$(PY) -m bench.district --communities 200 --tablets 5 --sqlite-tablets 70 --workers 2

# Regenerate docs/screenshots/*.png from the real apps with demo data.
screenshots: setup
	$(PY) -m demo screenshots tablet --out docs/screenshots
	$(PY) -m demo screenshots kiosk --out docs/screenshots
	MPB_SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest -q -p no:cacheprovider tests/e2e/test_console_browser.py tests/e2e/test_routine_browser.py \
		tests/e2e/test_district_browser.py

setup: deps $(VENV)/.installed

# apt-get only when something is missing, so repeated runs stay fast and work without root
# once the machine is set up.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get install -y --no-install-recommends python3-venv && $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	@touch $@

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
