# tickerstream developer entry points. `make run` and `make test` are the README quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv run test lint

# ---- Python environment -------------------------------------------------------------------
venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# ---- Kafka (local single-node KRaft broker from Maven Central jars) -----------------------
# (kafka-up / kafka-down: see deploy/kafka/)
