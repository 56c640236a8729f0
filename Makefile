# Everything builds into .venv from pyproject.toml; a fresh machine needs only python3 + pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format screenshots bench snapshots-update clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,compat]"
	touch $(STAMP)

## Open the explorer (on the embedded local emulator unless an endpoint is configured).
run: $(STAMP)
	$(BIN)/dstui

## The whole test suite, offline, one pytest worker per CPU (TEST_WORKERS=0: a single process).
TEST_WORKERS ?= logical
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 8 --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check dstui tests bench scripts
	$(BIN)/ruff format --check dstui tests bench scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format dstui tests bench scripts
	$(BIN)/ruff check --fix dstui tests bench scripts

## README screenshots (SVG, 120x36) from the deterministic demo pool.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

## Review tests/tui snapshot_report.html first; this rewrites the baselines.
snapshots-update: $(STAMP)
	$(BIN)/python -m pytest tests/tui --snapshot-update

bench: $(STAMP)
	$(BIN)/python bench/bench_client.py
	$(BIN)/python bench/bench_emulator.py
	$(BIN)/python bench/bench_tui.py
	$(BIN)/python bench/bench_proxy.py
	$(BIN)/python bench/bench_pools.py
	$(BIN)/python bench/bench_tui_pools.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache snapshot_report.html
