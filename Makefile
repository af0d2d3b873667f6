# flowdesk — the two commands of CONTRACT.md: `make run` and `make test`.
# Each does its own set-up on a fresh clone: virtualenv, dependencies,
# database migrations (and the bpmn-js assets from npm once the pages exist).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_test

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/flowdesk db upgrade
	$(BIN)/flowdesk seed-demo --if-empty
	$(BIN)/flowdesk serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check engine api worker forms cli tests bench alembic
	$(BIN)/mypy

# PostgreSQL tests run when CI=true (and must not skip there) or when a
# server answers on 127.0.0.1:5432; otherwise they are skipped and said so.
test: $(STAMP)
	@$(MAKE) --no-print-directory lint
	@if [ "$$CI" = "true" ] || $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		echo "flowdesk: running the PostgreSQL tests against $(PG_TEST_URL)"; \
		FLOWDESK_TEST_DATABASE_URL="$${FLOWDESK_TEST_DATABASE_URL:-$(PG_TEST_URL)}" $(BIN)/pytest -q; \
	else \
		echo "flowdesk: SKIPPING the PostgreSQL tests: no server on 127.0.0.1:5432 (set CI=true to require them)"; \
		$(BIN)/pytest -q; \
	fi

bench: $(STAMP)
	$(BIN)/python -m bench.api_throughput
	$(BIN)/python -m bench.workflow_size

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
