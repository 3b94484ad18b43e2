# Two commands for a fresh machine (Python 3.11+ is all it needs):
#   make demo   sandbox org + worker + dashboard, nothing to configure
#   make test   the whole test suite (unit, integration on SQLite and PostgreSQL, e2e)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test check lint format bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadrouter demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/leadrouter bench routing --json
	$(BIN)/leadrouter bench e2e --json

soak: $(STAMP)
	$(BIN)/leadrouter soak --profile long --json

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
