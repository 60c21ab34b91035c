# The two commands of the README: `make demo` (the whole migration of the bundled sample instance, then the site)
# and `make test`. Both set themselves up on a fresh machine (Python 3.11+ with venv).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DEBUG ?= 1
# `make demo PORT=8010`: the site's port; PUBLIC_BASE_URL follows it. The sample legacy instance keeps a fixed port,
# so a second `make demo` finds every dataset unchanged (their legacy links name that port).
PORT ?= 8000
DEMO_LEGACY_PORT ?= 8765

.PHONY: demo test lint check-shared clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The demo checks both ports, writes .env (the demo's settings, for the commands typed after it), migrates the
# database, then runs the migration and serves the site.
demo: $(VENV)/.installed
	PYTHONUNBUFFERED=1 PUBLIC_BASE_URL=http://127.0.0.1:$(PORT) $(PY) manage.py demo --port $(PORT) --legacy-port $(DEMO_LEGACY_PORT) \
		--env-file .env

test: $(VENV)/.installed
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

clean:
	rm -rf var/db.sqlite3 var/storage var/public var/dumps
