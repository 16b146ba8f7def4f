# tickerstream developer entry points. `make run` and `make test` are the README quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: venv run test test-unit test-faults test-under-load lint system-deps

# `make run`: the main job. With no broker configured it runs embedded (one process, no Kafka) on the
# bundled sample pages and prints events; set KAFKA_BOOTSTRAP_SERVERS to run it through Kafka.
run: venv
	@$(BIN)/tickerstream run $(ARGS)

# `make test`: the whole suite, unit and integration. Starts the local Kafka broker if none answers.
# pytest's exit code 5 (no tests collected) is turned into a failure so an empty run never passes.
test: system-deps venv kafka-up
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

# `make test-unit`: the unit tests that need nothing besides the venv (no broker, no system-deps).
# Tests that run an external tool carry its marker (promtool, chromium; see pyproject.toml) and are
# deselected here, and counted in pytest's summary ("N deselected"); `make test` runs them.
test-unit: venv
	$(BIN)/pytest tests/unit -m "not promtool and not chromium" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-unit: pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

# `make test-faults`: the fault suite (tests/faults): a broker of its own on free ports (never the
# shared one) stopped, restarted and killed under the producer and the processor; prints accounting.
test-faults: venv
	$(BIN)/pytest tests/faults -s $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-faults: pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

# `make test-under-load`: the group and fault tests again with two CPU-bound processes beside them,
# as on a busy CI machine; the load is stopped whatever happens.
test-under-load: venv kafka-up
	bash scripts/under-load.sh $(BIN)/pytest tests/integration/test_process_group.py \
		tests/integration/test_process_recreated_topic.py tests/faults $(PYTEST_ARGS)

# Tools the suite needs besides Python (promtool, chromium, Java, Maven): installed from Debian's
# packages when run as root or with sudo, otherwise the script names what to install.
system-deps:
	bash scripts/system-deps.sh

# ---- Python environment -------------------------------------------------------------------
venv: $(BIN)/.installed

# Progress goes to stderr so that `make run > events.jsonl` holds only events.
$(BIN)/.installed: pyproject.toml constraints.txt
	@echo "setting up $(VENV) (first run only)" >&2
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip >&2
	@$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]" >&2
	@touch $@

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# ---- Kafka (local single-node KRaft broker from Maven Central jars) -----------------------
# Env: KAFKA_VERSION, KAFKA_PORT (9092), KAFKA_HEAP, KAFKA_RUN_DIR, KAFKA_CACHE_DIR; see docs/kafka.md.
.PHONY: kafka-fetch kafka-up kafka-down kafka-logs kafka-status kafka-reset

kafka-fetch:  ## fetch the broker jars from Maven Central into ~/.cache/tickerstream (once per version)
	bash deploy/kafka/fetch.sh

kafka-up:  ## start the broker in the background on 127.0.0.1:9092 (KAFKA_PORT); a no-op if it runs
	bash deploy/kafka/up.sh

kafka-down:  ## stop the broker (SIGTERM, SIGKILL after 30 s); its data is kept
	bash deploy/kafka/down.sh

kafka-logs:  ## the broker's server.log (KAFKA_LOG_FOLLOW=1 to follow it)
	bash deploy/kafka/logs.sh

kafka-status:  ## is the broker running, which version, where its files are
	bash deploy/kafka/status.sh

kafka-reset: kafka-down  ## stop the broker and delete its data (topics, offsets); next kafka-up formats anew
	bash deploy/kafka/reset.sh
