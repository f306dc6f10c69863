# Quick start: `make run` and `make test` on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-install

.PHONY: run test lint unit engine bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/troubleshoot $(ARGS)

## Every test: installs what it needs, runs the linters (a failure stops here), makes sure a Docker engine
## answers, runs unit + integration tests.
## 6 workers: most tests wait on the daemon (fresh clone, empty daemon: pytest 5 min 11 s with 6, 6 min 0 s with 4)
JOBS ?= 6
test: lint engine
	$(BIN)/python -m pytest -n $(JOBS) --dist load --maxschedchunk 1 $(PYTEST_ARGS)

## The linters alone: ruff, mypy, and the architecture's import contracts ([tool.importlinter] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check troubleshoot tests bench scripts
	$(BIN)/mypy troubleshoot
	$(BIN)/lint-imports

## Only the pure core (milliseconds, no engine).
unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

engine:
	bash scripts/ensure-engine.sh

## Every speed and memory goal of issue 13, each figure beside its target and the docker CLI's own time on the same
## daemon (docs/performance.md keeps the table). Creates bench-NNNN containers (1,000) and removes them at the end.
bench: $(STAMP) engine
	$(BIN)/python bench/scan_bench.py --containers 1000,300 --runs 7 --keep
	$(BIN)/python bench/tui_bench.py --containers 1000 --runs 3

clean:
	rm -rf $(VENV) .pytest_cache
