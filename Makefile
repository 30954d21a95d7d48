# growthkit: the two commands are `make demo` and `make test`; both set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-dev
# the browser tests drive Debian's Chromium through Playwright (never `playwright install`)
CHROMIUM ?= /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.chromium-ready
export OPENBLAS_NUM_THREADS ?= 1
export SPARK_LOCAL_IP ?= 127.0.0.1

.PHONY: demo test bench lint install clean chromium

# look again whenever the browser is missing, even if the stamp exists
ifeq ($(wildcard $(CHROMIUM)),)
.PHONY: $(BROWSER_STAMP)
endif

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "growthkit needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# reinstall when the dependency list changes
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev,spark,models]'
	# gbstats: the reference engine our A/B statistics are checked against. Its pins (numpy<2,
	# pandas<2) are stricter than the checks need, so it is installed without its dependencies
	$(PIP) install --quiet --no-deps 'gbstats==0.8.0'
	touch $(STAMP)

install: $(STAMP)

$(BROWSER_STAMP): | $(PY)
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "the browser tests need Chromium at $(CHROMIUM); as root run: apt-get update && apt-get install -y chromium" >&2; \
	    exit 1; \
	  fi; \
	  echo "installing Debian's chromium for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q chromium; \
	fi
	@"$(CHROMIUM)" --version 2>/dev/null | head -n 1
	@touch $@

chromium: $(BROWSER_STAMP)

demo: $(STAMP)
	$(VENV)/bin/growthkit demo

test: $(STAMP) $(BROWSER_STAMP)
	$(VENV)/bin/pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(PY) bench/ingest.py
	$(PY) bench/viral.py
	$(PY) bench/customers.py
	$(PY) bench/recommend.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy src/growthkit
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
