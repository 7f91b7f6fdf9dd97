# Churn pipeline: `make repro` runs everything, `make test` tests everything.
# Both build the pinned environment (.venv) from requirements.lock first.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# Stage commands call `python` and `dvc`: make them the environment's.
RUN := PATH="$(BIN):$$PATH"

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else \
		"Python 3.11 is required (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

.PHONY: env
env: $(STAMP) ## Create the pinned virtual environment (.venv)

.PHONY: repro
repro: $(STAMP) ## Run the whole pipeline (dvc repro); reruns only what changed
	$(RUN) dvc repro

.PHONY: test
test: $(STAMP) system-deps ## Run every test (unit, end-to-end with the real dvc CLI, browser)
	$(RUN) python -m pytest

.PHONY: system-deps
system-deps: ## Install the system packages the tests need (Chromium), if missing
	@bash scripts/install-system-deps.sh

.PHONY: test-fast
test-fast: $(STAMP) ## Run the tests except the slow end-to-end ones
	$(RUN) python -m pytest -m "not e2e"

.PHONY: lint
lint: $(STAMP) ## Check style and common mistakes (ruff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: format
format: $(STAMP) ## Format the code (ruff)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: metrics
metrics: $(STAMP) ## Show the metrics of the workspace
	$(RUN) dvc metrics show

.PHONY: plots
plots: $(STAMP) ## Render the plots to dvc_plots/index.html
	$(RUN) dvc plots show

.PHONY: bench
bench: $(STAMP) ## Benchmark: cold and no-op dvc repro, time and memory per stage
	$(RUN) python benchmarks/pipeline.py

.PHONY: lock
lock: ## Re-resolve requirements.lock from pyproject.toml (needs the network)
	$(PYTHON) -m venv /tmp/churn-lock-tools && /tmp/churn-lock-tools/bin/pip install --quiet uv
	/tmp/churn-lock-tools/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--generate-hashes --no-emit-index-url --no-emit-find-links --no-header -o requirements.lock

.PHONY: clean
clean: ## Remove the environment and tool caches (not the DVC cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache dvc_plots

METRIC ?= test.roc_auc
.PHONY: exp-best
exp-best: $(STAMP) ## Rank the experiments by a metric: make exp-best METRIC=test.roc_auc [TOP=5]
	$(RUN) python -m churn.experiments --metric $(METRIC) $(if $(TOP),--top $(TOP))

.PHONY: bench-models
bench-models: $(STAMP) ## Benchmark every model family, tuned (needs `make repro` first; minutes)
	$(RUN) python benchmarks/models.py
