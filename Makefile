# Two commands do everything on a fresh machine (see README.md):
#   make run    creates .venv, installs pyg_simce and trains LightGCN + SimCE
#               on the embedded synthetic data set
#   make test   creates .venv, installs pyg_simce[test] and runs the test suite
#   make examples  installs the examples extra (pandas, matplotlib) into the
#               same .venv and runs every example in its quick --smoke setting
#
# torch is installed first, pinned, so that pip never resolves a CUDA build of
# several GB through torch_geometric's dependencies.  Override TORCH_SPEC to
# pick another build, e.g. `make test TORCH_SPEC='torch==2.14.1'`.

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.pyg_simce-installed
TEST_STAMP := $(VENV)/.pyg_simce-test-installed
BENCH_STAMP := $(VENV)/.pyg_simce-bench-installed
EXAMPLES_STAMP := $(VENV)/.pyg_simce-examples-installed
EXAMPLES := quickstart compare_losses propagation_rules custom_dataset pyg_dataset longtail_analysis
BENCH_ARGS ?=
RUN_ARGS ?= --dataset synthetic --model lightgcn --layers 2 --loss simce --epochs 30 --out runs/synthetic-lightgcn-simce.json --save-model runs/synthetic-lightgcn-simce.pt
PYTEST_ARGS ?=

.PHONY: run test test-slow examples bench bench-quick bench-full docs install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.py pyproject.toml | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_SPEC)"
	$(PIP) install --quiet -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(PIP) install --quiet -e ".[test]"
	touch $@

$(BENCH_STAMP): $(TEST_STAMP)
	$(PIP) install --quiet -e ".[test,plot]"
	touch $@

$(EXAMPLES_STAMP): $(STAMP)
	$(PIP) install --quiet -e ".[examples]"
	touch $@

install: $(STAMP)

install-test: $(TEST_STAMP)

run: $(STAMP)
	$(VENV)/bin/pyg-simce train $(RUN_ARGS)

# The examples' optional packages, then each example in its tiny setting
# (files under runs/examples/); run one in full with
# `.venv/bin/python examples/NAME.py`.
examples: $(EXAMPLES_STAMP)
	for name in $(EXAMPLES); do \
	  echo "== examples/$$name.py --smoke"; \
	  $(PY) examples/$$name.py --smoke || exit 1; \
	done

test: $(TEST_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: $(TEST_STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	$(PY) -m benchmarks.micro.data_loading
	$(PY) -m benchmarks.micro.propagation_step
	$(PY) -m benchmarks.micro.loss_kernels
	$(PY) -m benchmarks.micro.evaluation
	$(PY) -m benchmarks.micro.sampling
	$(PY) -m benchmarks.micro.training_speed
	$(PY) -m benchmarks.micro.training_step
	$(PY) -m benchmarks.quality

# Every suite of benchmarks/run.py in quick mode (ml-100k and
# amazon2014-health; under 15 minutes on 2 cores), or in full mode (ml-1m,
# Gowalla, Yelp2018; hours on a CPU, resumable: run it again after a stop).
bench-quick: $(BENCH_STAMP)
	$(PY) -m benchmarks.run all --quick $(BENCH_ARGS)

bench-full: $(BENCH_STAMP)
	$(PY) -m benchmarks.run all $(BENCH_ARGS)

# The clean protocol (validation carved from training, an equal tuning budget
# per method, seeds, paired intervals) on the datasets of
# benchmarks/configs/clean.json; cached and resumable.
bench-clean: $(BENCH_STAMP)
	$(PY) -m benchmarks.run all --protocol clean $(BENCH_ARGS)

docs: $(TEST_STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
