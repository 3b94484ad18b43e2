# Two commands for a fresh machine (Python 3.11+ is all it needs):
#   make demo   sandbox org + worker + dashboard, nothing to configure
#   make test   the whole test suite (unit, integration on SQLite and PostgreSQL, e2e)
# Installs are reproducible: exact versions and hashes come from the lock files, which
# `make lock` regenerates from pyproject.toml (which keeps the ranges) after a dependency
# changes: requirements-dev.lock (runtime + dev + devkit: this venv, CI) and requirements.lock
# (runtime only: the Docker image), resolved together so they agree.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
LOCK_ARGS := --universal --python-version 3.11 --generate-hashes --quiet

.PHONY: install demo test check lint format lock stubs bench soak clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@$(BIN)/python -m pip check || { echo "the lock does not satisfy pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

# uv only resolves (pip installs); on a fresh machine it comes into the venv first
$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv

lock: $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra devkit $(LOCK_ARGS) -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements-dev.lock $(LOCK_ARGS) -o requirements.lock

# the Pub/Sub API stubs are generated from the proto and committed (the runtime image has
# no grpcio-tools); tests/unit/sfdc/test_pubsub_stubs.py fails when they are out of date
PROTO := worker/sfdc/pubsub/pubsub_api.proto
stubs: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. $(PROTO)

# make demo PORT=8600: the dashboard on another port than 8501
demo: $(STAMP)
	$(BIN)/leadrouter demo $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/deptry . --extend-exclude devkit --optional-dependencies-dev-groups dev,devkit
	$(BIN)/deptry . --extend-exclude "worker|dashboard" --ignore DEP002
	$(BIN)/lint-imports

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
