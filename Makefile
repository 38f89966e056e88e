# KeyCare. Quick start: `make demo` runs it, `make test` runs the tests.
PORT ?= 8000
RESET ?=
PYTEST_ARGS ?=
SCALE ?= small
BENCH_ARGS ?=

SHELL := /bin/sh
UV = $(shell ./scripts/bootstrap-uv.sh)
RUN = $(UV) run --locked --no-sync
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system

.PHONY: demo test bench sync lint format messages check-messages clean help

help:
	@echo "make demo [PORT=8000] [RESET=1]   run KeyCare with demo data on http://127.0.0.1:$(PORT)"
	@echo "make test [PYTEST_ARGS=...]       run the whole test suite (KEYCARE_TEST_DATABASE_URL for PostgreSQL)"
	@echo "make bench [SCALE=small|medium|large] [BENCH_ARGS=--reuse]  benchmarks on PostgreSQL (bench/run.py)"
	@echo "make lint | format | messages"

sync:
	@$(UV) sync --locked --quiet

demo: export DJANGO_SETTINGS_MODULE = config.settings.dev
demo: sync
	@mkdir -p var
	@if [ -n "$(RESET)" ]; then echo "RESET=1: removing the demo database"; rm -f var/keycare.sqlite3 var/keycare.sqlite3-wal var/keycare.sqlite3-shm; fi
	@$(RUN) keycare migrate --noinput -v 0
	@$(RUN) keycare demo-data --if-empty
	@KEYCARE="$(RUN) keycare" ./scripts/demo-serve.sh $(PORT)

test: export DJANGO_ALLOW_ASYNC_UNSAFE = true
test: sync
	@./scripts/ensure-browser.sh
	$(RUN) pytest $(PYTEST_ARGS)

# Benchmarks on the local PostgreSQL (BENCH_POSTGRES to change): table printed, JSON in bench/results/
bench: export UV := $(UV)
bench: sync
	@./scripts/ensure-bench-tools.sh
	$(RUN) python bench/run.py --scale $(SCALE) $(BENCH_ARGS)

lint: sync
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports

format: sync
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

# Refresh the zh-Hans catalogue after changing strings (needs GNU gettext), then translate
# the new entries in keycare/locale/zh_Hans/LC_MESSAGES/django.po and run `make messages` again.
messages: export DJANGO_SETTINGS_MODULE = config.settings.dev
messages: sync
	cd keycare && $(RUN) keycare makemessages -l zh_Hans --no-obsolete --no-location --ignore "static/*" --ignore "*/tests/*"
	$(RUN) python scripts/compile_messages.py

clean:
	rm -rf var/static .pytest_cache
