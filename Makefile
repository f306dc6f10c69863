# Quick start: `make run` and `make test` on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-install

.PHONY: run test unit engine bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/troubleshoot $(ARGS)

## Every test: installs what it needs, makes sure a Docker engine answers, runs unit + integration tests.
test: $(STAMP) engine
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Only the pure core (milliseconds, no engine).
unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

engine:
	bash scripts/ensure-engine.sh

bench: $(STAMP) engine
	$(BIN)/python bench/scan_bench.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
