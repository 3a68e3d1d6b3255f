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

.PHONY: serve test bench build lint browser-deps pdf-deps clean

$(STAMP): pyproject.toml constraints.txt | pdf-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
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
	rm -rf $(VENV) data/build tests/artifacts
