# flowdesk — the two commands of CONTRACT.md: `make run` and `make test`.
# Each does its own set-up on a fresh clone: virtualenv, dependencies,
# database migrations, the browser assets from npm (bpmn-js, Swagger UI) and the
# designer's bundle built from them (esbuild), and (for the browser tests)
# Debian's chromium with CJK fonts.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_test
# pytest-xdist: one test process per core (each with its own databases).
TEST_WORKERS ?= auto

NPM_STAMP := node_modules/.installed
# The browser bundles flowdesk builds from npm packages (api/static/src/ -> api/static/dist/).
ASSETS_STAMP := api/static/dist/.built
ASSET_SOURCES := api/static/build.mjs $(wildcard api/static/src/*.js api/static/src/*/*.js)

.PHONY: run test install assets lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# The browser assets flowdesk serves itself: the bpmn-js viewer (case diagrams),
# Swagger UI (/api/docs), and what the designer's bundle is built from (bpmn-js's
# Modeler, its properties panel, esbuild). `--include=dev`: esbuild is a dev dependency.
$(NPM_STAMP): package.json package-lock.json
	npm ci --include=dev --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# esbuild bundles our browser entry points (ES modules importing npm packages) with
# their CSS and fonts into api/static/dist/ (git-ignored), in about a second.
$(ASSETS_STAMP): $(NPM_STAMP) $(ASSET_SOURCES)
	npm run --silent build
	touch $(ASSETS_STAMP)

assets: $(ASSETS_STAMP)

install: $(STAMP) $(NPM_STAMP) $(ASSETS_STAMP)

# Browser tests drive Debian's chromium (no browser download): install it with
# CJK fonts when missing and apt-get can (as root); otherwise the browser tests
# are skipped and say so (under CI=true they fail instead).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
			apt-get install -y -q chromium fonts-noto-cjk >/dev/null \
			|| { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }; \
		else \
			echo "flowdesk: no /usr/bin/chromium and no root apt-get: the browser tests will be SKIPPED"; \
		fi; \
	fi

run: $(STAMP) $(NPM_STAMP) $(ASSETS_STAMP)
	$(BIN)/flowdesk db upgrade
	$(BIN)/flowdesk seed-demo --if-empty
	$(BIN)/flowdesk serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check engine crm api worker forms cli tests bench alembic
	$(BIN)/mypy

# PostgreSQL tests run when CI=true (and must not skip there) or when a
# server answers on 127.0.0.1:5432; otherwise they are skipped and said so.
test: $(STAMP) $(NPM_STAMP) $(ASSETS_STAMP) browser
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint || exit $$?; \
	if [ "$$CI" = "true" ] || $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		echo "flowdesk: running the PostgreSQL tests against $(PG_TEST_URL)"; \
		FLOWDESK_TEST_DATABASE_URL="$${FLOWDESK_TEST_DATABASE_URL:-$(PG_TEST_URL)}" $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile; status=$$?; \
	else \
		echo "flowdesk: SKIPPING the PostgreSQL tests: no server on 127.0.0.1:5432 (set CI=true to require them)"; \
		$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile; status=$$?; \
	fi; \
	echo "flowdesk: make test took $$(( $$(date +%s) - start )) s (lint and tests)"; \
	exit $$status

bench: $(STAMP) $(NPM_STAMP) $(ASSETS_STAMP)
	$(BIN)/python -m bench.api_throughput
	$(BIN)/python -m bench.workflow_size
	$(BIN)/python -m bench.sla_sweep
	$(BIN)/python -m bench.inbox_page
	$(BIN)/python -m bench.audit_history
	$(BIN)/python -m bench.version_stats
	$(BIN)/python -m bench.reports --reuse

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache node_modules api/static/dist test-artifacts
