# The two commands: `make run` serves the site, `make test` runs the whole suite.
# Both set up everything they need on a fresh clone and are safe to run again.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST_PORT ?= 127.0.0.1:8000
CHROMIUM := /usr/bin/chromium

# The settings fail closed (unset DJANGO_DEBUG is production): these two commands are
# development, and say so. Links in emails follow the address `make run` serves on.
run test setup: export DJANGO_DEBUG := true
run: export SITE_URL ?= http://$(HOST_PORT)

.PHONY: run serve test setup lint format chromium clean journey bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.requirements: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.requirements-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.requirements

setup: $(VENV)/.requirements
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seed

# The background worker (notification fan-out and emails) runs beside the web server, is
# restarted if it dies, and stops with it.
run: setup
	@$(BIN)/python manage.py moderator list
	@echo "Serving on http://$(HOST_PORT)/ with a background worker. Emails are printed here, in this console, in development."
	trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	while :; do \
	  $(BIN)/python manage.py worker --interval 2 --no-reload; \
	  echo "The worker stopped (exit $$?); restarting it in 2 s." >&2; sleep 2; \
	done & \
	$(BIN)/python manage.py runserver $(HOST_PORT)

# The production stack on this machine, as deploy/ runs it on a server: set the production
# environment first (.env.example: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, SITE_URL,
# DATABASE_URL for PostgreSQL, REDIS_URL). Migrations, static files, gunicorn with
# deploy/gunicorn.conf.py, and the worker beside it, restarted if it dies. Ctrl-C stops both.
serve: $(VENV)/.requirements
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	while :; do \
	  $(BIN)/python manage.py worker --interval 1 --no-reload; \
	  echo "The worker stopped (exit $$?); restarting it in 2 s." >&2; sleep 2; \
	done & \
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py forum.wsgi

# `make serve` on loopback against PostgreSQL and Redis, walked through as a reader would
# (scripts/journey.py). CI runs it.
journey: $(VENV)/.requirements
	$(BIN)/python -m scripts.journey

# The reading page against a Django hello world, and posting (bench/README.md; needs wrk).
# BENCH_ARGS=--quick for a one-minute smoke run, --postgres for PostgreSQL.
bench: $(VENV)/.requirements
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Browser tests drive Debian's chromium; install it when missing and we are allowed to.
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }; \
	  else echo "Browser tests need $(CHROMIUM): sudo apt-get install chromium" >&2; exit 1; fi; }

test: $(VENV)/.requirements-dev chromium setup
	$(BIN)/pytest

# ruff, and the layers of DESIGN.md (import-linter's contract in pyproject.toml).
lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.requirements-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
