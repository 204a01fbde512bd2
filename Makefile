# The Makefile only bootstraps (virtual environment, npm packages, Debian's Chromium)
# and calls the tasks in tasks.py; `.venv/bin/invoke --list` shows them all.
VENV   := .venv
INVOKE := $(VENV)/bin/invoke
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test build serve clean bench bench-site audit sync-catalog setup system

demo: setup
	$(INVOKE) demo

test: setup
	$(INVOKE) test

build: $(PY_STAMP)
	$(INVOKE) build

serve: $(PY_STAMP)
	$(INVOKE) serve

clean:
	rm -rf output var/demo .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

bench: setup
	$(INVOKE) bench

bench-site: $(PY_STAMP)
	$(INVOKE) bench-site

# Lighthouse on every page kind in kk, ru and en (not part of `make test`).
audit: setup
	$(INVOKE) audit

sync-catalog: $(PY_STAMP)
	$(INVOKE) sync-catalog

setup: $(PY_STAMP) $(NODE_STAMP) system

$(PY_STAMP): pyproject.toml
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the end-to-end tests (a browser download cannot work here),
# a Java runtime for the Nu HTML Checker, and Caddy, the production web server the HTTPS
# suite runs (tests/e2e/test_caddy.py; the package's own service is not used), and
# PostgreSQL, which the store's tests start in a temporary folder (scripts/local_postgres.py).
system:
	@command -v chromium >/dev/null && command -v java >/dev/null && command -v caddy >/dev/null \
	  && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core default-jre-headless caddy postgresql >/dev/null; }
