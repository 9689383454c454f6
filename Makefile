# The book's entry points. Each target creates the virtual environment .venv
# (from the exact lock in requirements/lock.txt) when it is missing or stale.
#
#   make book        build the static site into _build/html (warnings fail the build;
#                    REPOSITORY=https://github.com/owner/name adds the launch buttons)
#   make test        package tests, doctests, book checks and strict nbval on every notebook
#   make notebooks   re-execute every notebook in place, refreshing its stored outputs
#   make bench       time companion's losses against the formulas and libraries people use,
#                    writing book/bench/ (results.json, speed.png) for the appendix page

SHELL     := /bin/bash
PYTHON    ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
MATHJAX   := _vendor/mathjax/tex-mml-chtml.js
# The browser test drives Debian's Chromium (Playwright cannot download its own here).
CHROMIUM  ?= /usr/bin/chromium
# Evaluated when used, after the environment exists.
NOTEBOOKS  = $(shell $(PY) tools/booktools.py notebooks)
PYTEST_ARGS ?=

.PHONY: book test notebooks bench env clean

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
SITE_CONFIG := _build/site-config.yml

book: $(STAMP) $(MATHJAX)
	$(PY) tools/booktools.py site-config --output $(SITE_CONFIG) --branch $(BRANCH) \
	    $(if $(REPOSITORY),--repository $(REPOSITORY))
	$(VENV)/bin/jupyter-book build . --config $(SITE_CONFIG) --builder html -W -n --keep-going

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser test of the site"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Stored outputs must not depend on this processor's vector width: on x86-64 the notebooks run a
# second time with torch's kernels, MKL and oneDNN held to AVX2 (what an older CPU would use).
ifeq ($(shell uname -m),x86_64)
PORTABLE_ENV := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
endif

test: book $(CHROMIUM)
	COMPANION_CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests companion tools/booktools.py $(NOTEBOOKS) \
	    --doctest-modules $(NBVAL) $(PYTEST_ARGS)
ifdef PORTABLE_ENV
	@echo "Notebooks again, with the vector instructions of an AVX2 processor: $(PORTABLE_ENV)"
	$(PORTABLE_ENV) $(PY) -m pytest $(NOTEBOOKS) $(NBVAL) $(PYTEST_ARGS)
endif

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

clean:
	rm -rf _build _vendor node_modules
