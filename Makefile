# One Makefile, two commands a newcomer needs: `make run` and `make test`.
# Both create the virtualenv on first use; the stamp file re-installs when
# pyproject.toml changes.

VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8000

.PHONY: run test lint bench compat docs venv clean

venv: $(STAMP)

# The first install takes about 40 s, so each phase says what it is doing, and pip
# shows each package it collects (with progress bars on a terminal). In CI (CI=true)
# pip is quiet: the phase lines and any error are what a log reader needs.
PIP_OUTPUT ?= $(if $(filter true,$(CI)),--quiet,--progress-bar on)

$(STAMP): pyproject.toml
	@echo "==> [1/3] virtualenv $(VENV) (python3 -m venv, once)"
	test -x $(PYTHON) || python3 -m venv $(VENV)
	@echo "==> [2/3] upgrading pip"
	$(PYTHON) -m pip install --quiet --upgrade pip
	@echo "==> [3/3] installing miniflask, blog_api and the dev tools (pyproject.toml's [dev]; ~40 s the first time)"
	$(PYTHON) -m pip install $(PIP_OUTPUT) -e '.[dev]'
	touch $(STAMP)
	@echo "==> $(VENV) is ready"

# The blog API under gunicorn (gunicorn.conf.py) on a SQLite file in instance/;
# BLOG_FRAMEWORK=flask make run serves the very same app on real Flask. The
# framework's own command, `miniflask` or `flask`, first brings the schema up
# to date (blog_api/migrate.py: creates the tables on a new database).
# The app answers only to the host names in BLOG_TRUSTED_HOSTS: by default this
# machine's and the bind address (HOST=192.168.1.5 make run); set it to the
# names clients use when binding 0.0.0.0.
FRAMEWORK := $(or $(BLOG_FRAMEWORK),miniflask)
run: $(STAMP)
	BLOG_FRAMEWORK=$(FRAMEWORK) $(VENV)/bin/$(FRAMEWORK) --app blog_api.wsgi db upgrade
	BLOG_FRAMEWORK=$(FRAMEWORK) BLOG_TRUSTED_HOSTS="$${BLOG_TRUSTED_HOSTS:-localhost,127.0.0.1,$(HOST)}" \
		$(VENV)/bin/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) blog_api.wsgi:app

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PYTHON) -m benchmarks $(ARGS)

# Flask's own tests and popular extensions' tests, run on Flask and on miniflask
# in a venv of their own (build/compat/); writes docs/compat.md. Fails while a
# test passing on Flask fails on miniflask, or Flask's suite scores under 97 %:
# `make compat ARGS=--report-only` reports without failing.
compat: $(STAMP)
	$(PYTHON) -m compat --min-flask-pass-rate 97 $(ARGS)

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir build/site

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
