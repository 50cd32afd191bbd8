# Linju: `make run` to try it, `make test` to prove it. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# axe-core for the browser tests' accessibility checks (package.json, docs/adr/0025).
NODE_STAMP := node_modules/.installed-stamp
export DATABASE_URL ?= sqlite:///var/linju.db
PYTEST_WORKERS ?= 2
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: help install run migrate demo test lint imports typecheck test-sqlite test-postgres bench messages clean compose-smoke

help:
	@echo "make run   - create .venv, install, migrate, load the demo, serve http://127.0.0.1:8000"
	@echo "make test  - ruff, import contracts, mypy, and the whole suite on SQLite and on PostgreSQL"
	@echo "make bench - the benchmarks of docs/performance.md (ledger, confirmations, public pages)"
	@echo "make compose-smoke - (needs Docker) docker-compose.yml up, /healthz answers 200, down -v"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# `npm ci` installs exactly the lock's versions; again whenever the lock changes.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed for axe-core (apt-get install -y npm)" >&2; exit 2; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

# `make run` needs Python only; the test runs also need axe-core (npm).
install: $(STAMP)

# A local witness of the transparency log runs beside the server (README, "Transparency log"),
# so the demo's checkpoints carry its cosignature; its key and state stay in var/.
run: install
	@mkdir -p var
	$(BIN)/linju migrate
	$(BIN)/linju demo
	@test -s var/witness.vkey || { rm -f var/witness.key; $(BIN)/linju witness keygen --name witness.local/w1 --out var/witness.key > var/witness.vkey; }
	@$(BIN)/linju witness serve --key var/witness.key --log "$$($(BIN)/linju log key)" --port 8010 --state var/witness.db & witness=$$!; \
	trap 'kill $$witness 2>/dev/null' EXIT INT TERM; \
	LINJU_WITNESSES="$${LINJU_WITNESSES:-http://127.0.0.1:8010 $$(cat var/witness.vkey)}" $(BIN)/linju serve --host 127.0.0.1 --port 8000

migrate: install
	$(BIN)/linju migrate

demo: install
	$(BIN)/linju demo

lint: install imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The import contracts of pyproject.toml ([tool.importlinter], docs/adr/0011-house-plan.md).
# Like mypy, import-linter cannot follow the editable install's import hook: it reads the
# packages through a folder of symbolic links that mirrors the installed `linju.*` names.
imports: install
	@mkdir -p var && d=$$(mktemp -d "$$PWD/var/imports.XXXXXX") && mkdir "$$d/linju" && \
	for p in platform projects payments; do ln -s "$$PWD/$$p" "$$d/linju/$$p"; done && \
	(cd "$$d" && PYTHONPATH="$$d" "$(CURDIR)/$(BIN)/lint-imports" "$(CURDIR)/pyproject.toml" --no-cache); \
	status=$$?; rm -rf "$$d"; exit $$status

# mypy cannot follow the editable install's import hook, so it reads the packages through a
# folder of symbolic links that mirrors the installed `linju.*` names (docs/adr/0001).
typecheck: install
	@mkdir -p var && d=$$(mktemp -d "$$PWD/var/typecheck.XXXXXX") && mkdir "$$d/linju" && \
	for p in platform projects payments; do ln -s "$$PWD/$$p" "$$d/linju/$$p"; done && \
	ln -s "$$PWD/tests" "$$d/tests" && ln -s "$$PWD/bench" "$$d/bench" && \
	(cd "$$d" && MYPYPATH=. "$(CURDIR)/$(BIN)/mypy" --config-file "$(CURDIR)/pyproject.toml" \
		--cache-dir "$(CURDIR)/.mypy_cache" -p linju.platform -p linju.projects -p linju.payments \
		-p tests && MYPYPATH=. "$(CURDIR)/$(BIN)/mypy" --config-file "$(CURDIR)/pyproject.toml" \
		--cache-dir "$(CURDIR)/.mypy_cache" bench/*.py); \
	status=$$?; rm -rf "$$d"; exit $$status

test-sqlite: install $(NODE_STAMP)
	@echo "=== pytest on SQLite ==="
	LINJU_TEST_DATABASE=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -q

test-postgres: install $(NODE_STAMP)
	@echo "=== pytest on PostgreSQL ($(PG_TEST_URL)) ==="
	LINJU_TEST_DATABASE=postgres LINJU_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -q

test: lint typecheck test-sqlite test-postgres

# Every ratio of docs/performance.md: the ledger, confirmations, and the public pages against
# the framework's own speed on both engines (bench/pages.py, issue 18).
bench: install
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/donations.py
	$(BIN)/python bench/pages.py --engine postgres
	$(BIN)/python bench/pages.py --engine sqlite

# The production shape (docker-compose.yml, docs/adr/0013) started for real, on a machine with
# Docker; not part of `make test`. Secrets not set in the environment are made up for this run.
# It runs as a compose project of its own, so `down -v` never touches the volumes of a stack
# started by hand, and it is always taken down again (with its volumes), whatever happened.
COMPOSE_SMOKE_TRIES ?= 30
compose-smoke:
	@command -v docker >/dev/null && docker compose version >/dev/null 2>&1 || \
		{ echo "compose-smoke: needs Docker with the compose plugin" >&2; exit 2; }
	@secret() { $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))'; }; \
	export LINJU_SECRET_KEY="$${LINJU_SECRET_KEY:-$$(secret)}" \
		LINJU_SANDBOX_WEBHOOK_SECRET="$${LINJU_SANDBOX_WEBHOOK_SECRET:-$$(secret)}" \
		LINJU_S3_SECRET_ACCESS_KEY="$${LINJU_S3_SECRET_ACCESS_KEY:-$$(secret)}" \
		LINJU_PAYMENT_GATEWAY="$${LINJU_PAYMENT_GATEWAY:-sandbox}" \
		COMPOSE_PROJECT_NAME=linju-compose-smoke; \
	trap 'docker compose down -v --remove-orphans' EXIT; \
	status=1; \
	if docker compose up -d --build --wait; then \
		for try in $$(seq 1 $(COMPOSE_SMOKE_TRIES)); do \
			if curl -fsS --max-time 5 http://127.0.0.1:8000/healthz; then \
				echo; echo "compose-smoke: /healthz answered 200"; status=0; break; \
			fi; \
			sleep 2; \
		done; \
	fi; \
	if [ $$status -ne 0 ]; then \
		echo "compose-smoke: the stack did not come up healthy" >&2; \
		docker compose ps -a; docker compose logs --tail=50; \
	fi; \
	exit $$status

clean:
	rm -rf node_modules var/typecheck.* .pytest_cache .mypy_cache .ruff_cache
