# Linju: `make run` to try it, `make test` to prove it. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DATABASE_URL ?= sqlite:///var/linju.db
PYTEST_WORKERS ?= 2
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: help install run migrate demo test lint imports typecheck test-sqlite test-postgres bench messages clean

help:
	@echo "make run   - create .venv, install, migrate, load the demo, serve http://127.0.0.1:8000"
	@echo "make test  - ruff, import contracts, mypy, and the whole suite on SQLite and on PostgreSQL"
	@echo "make bench - the benchmarks of docs/performance.md (ledger, page, confirmations)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@mkdir -p var
	$(BIN)/linju migrate
	$(BIN)/linju demo
	$(BIN)/linju serve --host 127.0.0.1 --port 8000

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

test-sqlite: install
	@echo "=== pytest on SQLite ==="
	LINJU_TEST_DATABASE=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -q

test-postgres: install
	@echo "=== pytest on PostgreSQL ($(PG_TEST_URL)) ==="
	LINJU_TEST_DATABASE=postgres LINJU_TEST_POSTGRES_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -q

test: lint typecheck test-sqlite test-postgres

bench: install
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/donations.py

clean:
	rm -rf var/typecheck.* .pytest_cache .mypy_cache .ruff_cache
