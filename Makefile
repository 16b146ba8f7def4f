# tickerstream developer entry points. `make run` and `make test` are the README quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv run test test-unit lint

# `make run`: the main job. With no broker configured it runs embedded (one process, no Kafka) on the
# bundled sample pages and prints events; set KAFKA_BOOTSTRAP_SERVERS to run it through Kafka.
run: venv
	$(BIN)/tickerstream run $(ARGS)

# `make test`: the whole suite, unit and integration. Starts the local Kafka broker if none answers.
# pytest's exit code 5 (no tests collected) is turned into a failure so an empty run never passes.
test: venv kafka-up
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test-unit: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# ---- Python environment -------------------------------------------------------------------
venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# ---- Kafka (local single-node KRaft broker from Maven Central jars) -----------------------
# (kafka-up / kafka-down: see deploy/kafka/)
