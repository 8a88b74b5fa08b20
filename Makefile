# Okno: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
DEMO_ACCOUNTS ?= 2000
DEMO_APPEALS ?= 5000
BIND ?= 127.0.0.1:8000
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/okno_ci

.PHONY: demo test install install-test lint typecheck pytest pytest-pg bench clean messages

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed
	$(BIN)/okno compile_translations --verbosity 0 > /dev/null
	$(BIN)/okno assistant train --if-missing

install-test: $(VENV)/.installed-test
	$(BIN)/okno compile_translations --verbosity 0 > /dev/null
	$(BIN)/okno assistant train --if-missing

demo: install
	$(BIN)/okno migrate --no-input
	$(BIN)/okno seed --accounts $(DEMO_ACCOUNTS) --appeals $(DEMO_APPEALS) --seed 1 --if-empty
	$(BIN)/okno serve --bind $(BIND)

lint: install-test
	$(BIN)/ruff check okno tests bench
	$(BIN)/ruff format --check okno tests bench

typecheck: install-test
	$(BIN)/mypy okno

# The browser tests run on their own, one at a time, after the rest: their live server shares the
# test database connection and Playwright keeps an event loop in the test thread, which must not meet
# the other tests (asyncio.run, SQLite's table locks). Without CI=true or OKNO_BROWSER_TESTS=1 they skip.
PYTEST_BROWSER = -m browser -p no:xdist

pytest: install-test
	$(BIN)/pytest -n 2 -m "not browser"
	$(BIN)/pytest $(PYTEST_BROWSER)

# Under CI=true the suite runs a second time on PostgreSQL (browser tests run in both passes).
pytest-pg: install-test
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n 2 -m "not browser"
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_BROWSER)

test: lint typecheck pytest
	@if [ "$$CI" = "true" ]; then $(MAKE) --no-print-directory pytest-pg; fi

messages: install-test
	cd okno && ../$(BIN)/okno makemessages -l ru -l en --no-obsolete --ignore 'templates/admin/*'
	$(BIN)/okno compile_translations

bench: install-test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
