# The book's entry points. Each target creates the virtual environment .venv
# (from the exact lock in requirements/lock.txt) when it is missing or stale.
#
#   make book        build the static site into _build/html (warnings fail the build;
#                    REPOSITORY=https://github.com/owner/name adds the launch buttons)
#   make test        package tests, doctests, static checks, book checks and strict nbval on every notebook
#   make test-gpu    the same suite on a CUDA GPU, from its own environment (.venv-gpu)
#   make notebooks   re-execute every notebook in place, refreshing its stored outputs
#   make bench       time companion's losses against the formulas and libraries people use,
#                    writing book/bench/ (results.json, speed.png) for the appendix page, and
#                    the schedules' array evaluation over 10^6 steps (printed)

SHELL     := /bin/bash
PYTHON    ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
MATHJAX   := _vendor/mathjax/tex-mml-chtml.js
# The browser test drives Debian's Chromium (Playwright cannot download its own here).
CHROMIUM  ?= /usr/bin/chromium
PYTEST_ARGS ?=

.PHONY: book test test-gpu notebooks bench env clean

env: $(STAMP)

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# MathJax comes from the npm registry (package.json / package-lock.json) and is
# served by the site itself.
$(MATHJAX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf _vendor/mathjax
	mkdir -p _vendor
	cp -r node_modules/mathjax/es5 _vendor/mathjax
	touch $@

# The repository the site links to, with its Colab and Binder launch buttons:
# git's remote "origin" when it is a GitHub or GitLab address, or
# REPOSITORY=https://github.com/owner/name (BRANCH=main). Without one the site
# has no repository link and no launch buttons.
REPOSITORY ?=
BRANCH     ?= main

# The site is rebuilt only when a page, the configuration, the theme, MathJax or the
# package (its API pages) changed since its last successful build.
BOOK_ARGS = --branch $(BRANCH) $(if $(REPOSITORY),--repository $(REPOSITORY))

book: $(STAMP) $(MATHJAX)
	$(PY) tools/booktools.py build $(BOOK_ARGS)

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser test of the site"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

# Stored outputs must not depend on this processor's vector width: on x86-64 the notebooks run a
# second time with torch's kernels, MKL and oneDNN held to AVX2 (what an older CPU would use),
# alongside the main pass. The suite's options live in pyproject.toml, so plain `pytest` runs
# the same tests; tools/run-tests.sh prints each stage's wall time at the end.
ifeq ($(shell uname -m),x86_64)
PORTABLE_ENV := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
endif

test: $(STAMP) $(MATHJAX) $(CHROMIUM)
	PY=$(PY) CHROMIUM=$(CHROMIUM) BOOK_ARGS="$(BOOK_ARGS)" PORTABLE_ENV="$(PORTABLE_ENV)" \
	    PYTEST_ARGS="$(PYTEST_ARGS)" tools/run-tests.sh

# The same suite on a GPU: a separate environment, .venv-gpu, with the CUDA build of the locked
# torch version (PyPI's Linux wheel; TORCH_INDEX=https://download.pytorch.org/whl/cu128 or another
# index picks a different CUDA release) and everything else from the lock; then every test,
# doctest and notebook computes on COMPANION_DEVICE=cuda. The AVX2 pass is a CPU matter and is
# left out. See "On a GPU" in the README.
GPU_VENV    := .venv-gpu
GPU_PY      := $(GPU_VENV)/bin/python
GPU_STAMP   := $(GPU_VENV)/.installed
TORCH_PIN   := $(shell grep -E '^torch==' requirements/lock.txt)
TORCH_INDEX ?= https://pypi.org/simple

$(GPU_STAMP): requirements/lock.txt pyproject.toml
	test -x $(GPU_PY) || $(PYTHON) -m venv $(GPU_VENV)
	grep -v -E '^torch==' requirements/lock.txt > $(GPU_VENV)/lock-without-torch.txt
	$(GPU_PY) -m pip install --quiet --disable-pip-version-check --index-url $(TORCH_INDEX) "$(TORCH_PIN)"
	$(GPU_PY) -m pip install --quiet --disable-pip-version-check -r $(GPU_VENV)/lock-without-torch.txt
	$(GPU_PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(GPU_PY) -c "import sys, torch; sys.exit(0 if torch.version.cuda else 'torch in $(GPU_VENV) is not a CUDA build')"
	touch $@

test-gpu: $(GPU_STAMP) $(MATHJAX) $(CHROMIUM)
	PY=$(GPU_PY) COMPANION_DEVICE=cuda CHROMIUM=$(CHROMIUM) BOOK_ARGS="$(BOOK_ARGS)" PORTABLE_ENV= \
	    PYTEST_ARGS="$(PYTEST_ARGS)" tools/run-tests.sh

notebooks: $(STAMP)
	$(PY) tools/booktools.py execute

# Speed and memory of companion's losses against the direct formulas (prints numbers).
# kornia, a peer in the benchmark, goes into its own folder, not into the book's environment.
BENCH_DEPS := _build/bench-deps
$(BENCH_DEPS)/.installed:
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --target $(BENCH_DEPS) \
	    kornia==0.9.0 kornia_rs==0.2.0
	touch $@

bench: $(STAMP) $(BENCH_DEPS)/.installed
	$(PY) benchmarks/bench_losses.py
	$(PY) benchmarks/bench_schedules.py

clean:
	rm -rf _build _vendor node_modules
