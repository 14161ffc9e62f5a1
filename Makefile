# Aduan — `make run` starts the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export ADUAN_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test check lint typecheck pytest browser-deps postgres-deps test-deps messages bench clean

$(BIN)/aduan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/aduan
	@test -f "$(ADUAN_DATA_DIR)/aduan.sqlite3" || $(BIN)/aduan init --demo
	$(BIN)/aduan serve --host $(HOST) --port $(PORT)

# Debian's chromium drives the browser tests (Playwright cannot download its own here);
# dbus-daemon gives it a private bus where a test's notification server clicks a
# notification (tests/browser/notification_daemon.py).
browser-deps:
	@command -v chromium >/dev/null 2>&1 && command -v dbus-daemon >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core dbus-daemon; \
	  else echo "chromium or dbus-daemon missing: run 'sudo apt-get install chromium dbus-daemon'" >&2; exit 1; fi; }

# PostgreSQL 15 from Debian: the tests start their own throwaway cluster with it (as the
# `postgres` user when run as root) and run the whole suite on it as well as on SQLite.
postgres-deps:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql; \
	  else echo "PostgreSQL missing: run 'sudo apt-get install postgresql'" >&2; exit 1; fi; }

test-deps: browser-deps postgres-deps

lint: $(BIN)/aduan
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/aduan
	$(BIN)/mypy

# Every test that touches the database runs on SQLite and on PostgreSQL (tests/backend.py);
# ADUAN_TEST_BACKENDS=sqlite (or postgresql) runs one of them.
pytest: $(BIN)/aduan test-deps
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

# Extract translatable strings and merge them into the English catalogue.
messages: $(BIN)/aduan
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k lazy_gettext --no-location --sort-output \
	  -o web/locale/messages.pot .
	$(BIN)/pybabel update -i web/locale/messages.pot -d web/locale -D messages --width 100 \
	  --ignore-obsolete

bench: $(BIN)/aduan
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
