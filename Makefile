# Everything a user or CI needs, from a machine with only Python 3.11+ and make.
# poetry comes from PATH, or is bootstrapped into .tools/ on first use.

PYTHON ?= python3
TOOLS := .tools
VENV := .venv
POETRY := $(or $(shell command -v poetry 2>/dev/null),$(TOOLS)/bin/poetry)
# Some networks serve PyPI's simple index but not its JSON API, which poetry needs by default;
# the pypi-mirror plugin (installed with the bootstrapped poetry) reads the simple index
# that pip itself uses instead. No registry address is written into any file.
export POETRY_PYPI_MIRROR_URL ?= $(shell $(PYTHON) -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)' 2>/dev/null)

.DEFAULT_GOAL := help
.PHONY: help install run demo dev test browser check format lock bench soak fuzz clean docker-smoke up down

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The poetry of the Dockerfile's builder: one version resolves and exports the lock everywhere.
POETRY_VERSION := 2.5.1

$(TOOLS)/bin/poetry:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check poetry==$(POETRY_VERSION) \
		poetry-plugin-pypi-mirror==0.6.5

$(VENV)/.installed: pyproject.toml poetry.lock | $(POETRY)
	$(POETRY) install --no-interaction
	@touch $@

install: $(VENV)/.installed  ## create .venv with roomtemp and its tools

run: install  ## serve on 127.0.0.1:8000 (SQLite in ./var unless ROOMTEMP_DATABASE_URL says otherwise)
	$(VENV)/bin/roomtemp serve

# The demo keeps its simulated rooms in a database of their own, away from real ones. The
# server runs in the background and is stopped with the simulator (Ctrl-C).
DEMO_DATABASE_URL ?= sqlite:///./var/demo.sqlite3

demo: install  ## serve on 127.0.0.1:8000 with simulated rooms: a week at once, then live
	@$(VENV)/bin/roomtemp serve --database-url $(DEMO_DATABASE_URL) --no-access-log & server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server' EXIT INT TERM; \
	echo "the dashboard: http://127.0.0.1:$${ROOMTEMP_PORT:-8000}/"; \
	$(VENV)/bin/roomtemp simulate --url http://127.0.0.1:$${ROOMTEMP_PORT:-8000} --wait 30 \
		--backfill P7D --live --interval PT15S $(DEMO_ARGS)

dev: install  ## serve with auto-reload and debug logs
	$(VENV)/bin/roomtemp serve --reload --log-level debug

test: install browser  ## the whole suite, PostgreSQL and a browser included
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium where it is installed (.ci/run installs it), or
# the one named by ROOMTEMP_CHROMIUM; elsewhere, Playwright's own, fetched once into its cache.
browser: install  ## a Chromium for the browser tests
	@[ -x /usr/bin/chromium ] || [ -n "$$ROOMTEMP_CHROMIUM" ] || $(VENV)/bin/playwright install chromium

# The long versions of what `make test` runs for a few seconds; not part of it, nor of CI.
soak: install  ## 60 s of mixed reads and writes at 64 connections per backend, memory watched
	ROOMTEMP_SOAK_SECONDS=$(or $(SOAK_SECONDS),60) $(VENV)/bin/pytest tests/blackbox/test_sustained_load.py $(PYTEST_ARGS)

fuzz: install  ## schemathesis against the real server: 2,000 examples per operation (minutes)
	ROOMTEMP_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),2000) $(VENV)/bin/pytest tests/fuzz $(PYTEST_ARGS)

check: install  ## lint, format and type checks
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --quiet .github/workflows

format: install  ## fix what ruff can fix
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install  ## throughput and latency on every backend, beside PostgreSQL's own limits (minutes)
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || apt-get install -y -qq wrk >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk, or brew install wrk"; exit 1; }
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

lock: | $(POETRY)  ## re-resolve poetry.lock after changing pyproject.toml
	$(POETRY) lock

# The shared tool builds the Dockerfile with podman (no Docker engine needed) and waits for
# /healthz. The token stands for the one production sets: a server listening on every address
# refuses to start without one.
docker-smoke:  ## build the image and run it until /healthz answers (podman, no Docker engine)
	SMOKE_RUN_ARGS="-e ROOMTEMP_ADMIN_TOKEN=docker-smoke-token $(SMOKE_RUN_ARGS)" ../shared/tools/container-smoke

up: .env  ## start PostgreSQL, migrate, serve on 127.0.0.1:8000 (Docker Compose)
	docker compose up --build --detach

down:  ## stop the compose stack; the database volume stays
	docker compose down

# Secrets for the compose stack, made once and kept out of git and of the image.
.env:
	@umask 077 && $(PYTHON) -c 'import secrets; 	print(f"POSTGRES_PASSWORD={secrets.token_hex(16)}\nROOMTEMP_ADMIN_TOKEN={secrets.token_urlsafe(32)}")' > $@
	@echo "wrote $@: a new database password and admin token (keep the file; it is not in git)"

clean:  ## remove the virtualenvs, caches and the local database
	rm -rf $(VENV) $(TOOLS) var test-artifacts .mypy_cache .pytest_cache .ruff_cache
