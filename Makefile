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

# Tests run on TEST_WORKERS pytest-xdist workers (one per core of the 2-core reference
# machine); each end-to-end module stays on one worker (tests/conftest.py). TEST_WORKERS=0
# runs them in this process, serially.
TEST_WORKERS ?= 2
PYTEST := python -m pytest -n $(TEST_WORKERS) --dist loadgroup

.PHONY: test
test: $(STAMP) system-deps ## Run every test (unit, end-to-end with the real dvc CLI, browser)
	$(RUN) $(PYTEST)

.PHONY: system-deps
system-deps: ## Install the system packages the tests need (Chromium, Prometheus, PostgreSQL), if missing
	@bash scripts/install-system-deps.sh

.PHONY: test-fast
test-fast: $(STAMP) ## Run the tests except the slow end-to-end ones
	$(RUN) $(PYTEST) -m "not e2e"

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
	$(RUN) python -m benchmarks.pipeline

.PHONY: bench-data
bench-data: $(STAMP) ## Benchmark collect + validate + clean on a 1,000,000-row file
	$(RUN) python -m benchmarks.collect_validate_clean

ROWS ?= 1000000
ENGINE ?= local
.PHONY: bench-scale
bench-scale: $(STAMP) ## Benchmark the whole pipeline on ROWS resampled rows (ENGINE=local|dask)
	$(RUN) python -m benchmarks.scale --rows $(ROWS) --engine $(ENGINE)

LOCK_FLAGS := --python-version 3.11 --generate-hashes --no-emit-index-url --no-emit-find-links --no-header
.PHONY: lock
lock: ## Re-resolve the locks from pyproject.toml (needs the network)
	$(PYTHON) -m venv /tmp/churn-lock-tools && /tmp/churn-lock-tools/bin/pip install --quiet uv
	@# Everything the tests use: the runtime, dev tools, the Dask engine, the PostgreSQL driver.
	/tmp/churn-lock-tools/bin/uv pip compile pyproject.toml --extra dev --extra dask \
		--extra postgres $(LOCK_FLAGS) -o requirements.lock
	@# The container's runtime only, at the same pins: uv keeps the versions already in the
	@# output file, so it starts as a copy of the full lock.
	cp requirements.lock requirements-runtime.lock
	/tmp/churn-lock-tools/bin/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements-runtime.lock
	@# JupyterLab for `make notebook` (the `notebook` extra) on top of the full lock, same pins.
	cp requirements.lock requirements-notebook.lock
	/tmp/churn-lock-tools/bin/uv pip compile pyproject.toml --extra dev --extra dask \
		--extra postgres --extra notebook $(LOCK_FLAGS) -o requirements-notebook.lock

.PHONY: clean
clean: ## Remove the environment and tool caches (not the DVC cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache .cache dvc_plots

METRIC ?= test.roc_auc
.PHONY: exp-best
exp-best: $(STAMP) ## Rank the experiments by a metric: make exp-best METRIC=test.roc_auc [TOP=5]
	$(RUN) python -m churn.experiments rank --metric $(METRIC) $(if $(TOP),--top $(TOP))

.PHONY: bench-models
bench-models: $(STAMP) ## Benchmark every model family, tuned (needs `make repro` first; minutes)
	$(RUN) python -m benchmarks.models
# --- Comparing runs and experiments (pull-request report, dvc exp helpers) -----------
BASE ?= main
COMPARE_DIR ?= reports/compare
# `make exp-queue SET='train.model=random_forest,hist_gradient_boosting'`; several -S
# sets: SET='train.logistic_regression.C=0.1,1 train.logistic_regression.class_weight=balanced'
SET ?=
JOBS ?= 2
# exp-show: hide bookkeeping columns, dependency hashes and test-split metrics (choose
# experiments on validation; the test split is for the final estimate only)
EXP_DROP ?= ^(Created|State|Executor)$$|^(data|src|models)/|^test\.
EXP_SORT ?= metrics/evaluate/metrics.json:validation.roc_auc

.PHONY: compare
compare: $(STAMP) ## Report this workspace vs BASE (default main) in $(COMPARE_DIR)/report.md
	$(RUN) python -m churn.experiments compare --base $(BASE) --output $(COMPARE_DIR)

.PHONY: plots-template
plots-template: $(STAMP) ## Rebuild .dvc/offline_plots.html from the pinned Vega bundles (npm)
	$(BIN)/python -m scripts.build_plots_template

.PHONY: exp-show
exp-show: $(STAMP) ## Experiments table with only the params and metrics that differ
	$(RUN) dvc exp show --md --no-pager --only-changed --drop '$(EXP_DROP)' \
		--sort-by '$(EXP_SORT)' --sort-order desc

.PHONY: exp-queue
exp-queue: $(STAMP) ## Queue a grid of experiments: make exp-queue SET='train.x=1,2 train.y=a,b'
	@test -n "$(SET)" || { echo "usage: make exp-queue SET='train.logistic_regression.C=0.1,1,10'"; exit 2; }
	$(RUN) dvc exp run --queue $(foreach s,$(SET),-S '$(s)')

.PHONY: exp-run-queue
exp-run-queue: $(STAMP) ## Run every queued experiment, JOBS (default 2) at a time, and wait
	$(RUN) dvc exp run --run-all --jobs $(JOBS)
.PHONY: serve
serve: $(STAMP) ## Serve the workspace model on http://127.0.0.1:8000 (run `make repro` first)
	$(RUN) python -m churn.serve --host 127.0.0.1 --port 8000

# --- Monitoring ---------------------------------------------------------------------------
DEMO_DIR ?= $(or $(TMPDIR),/tmp)/churn-monitor-demo

.PHONY: monitor
monitor: $(STAMP) ## Monitor the prediction log (with stream.months: [] in params.yaml): record its extent, dvc repro monitor
	$(RUN) python -m churn.monitor.log_state
	$(RUN) dvc repro monitor
	@echo "dashboard: $(CURDIR)/reports/monitor/dashboard.html"

.PHONY: monitor-demo
monitor-demo: $(STAMP) ## The monitoring loop on the simulated stream, in a copy of the repo (DEMO_DIR)
	$(RUN) python -m churn.simulate demo --workspace $(DEMO_DIR) --replace

# --- Retraining (README "Retraining") ------------------------------------------------------
RETRAIN_DEMO_DIR ?= $(or $(TMPDIR),/tmp)/churn-retrain-demo

.PHONY: retrain-status
retrain-status: $(STAMP) ## What the retraining policy decides now, and why (changes nothing)
	$(RUN) python -m churn.retrain status

.PHONY: retrain
retrain: $(STAMP) ## The unattended loop: policy, then window, challenger (dvc exp run), challenge
	$(RUN) python -m churn.retrain run

.PHONY: retrain-demo
retrain-demo: $(STAMP) ## The whole retraining loop on the simulated stream, in a copy of the repo
	$(RUN) python -m churn.retrain demo --workspace $(RETRAIN_DEMO_DIR) --replace

.PHONY: bench-serve
bench-serve: $(STAMP) ## Benchmark the prediction service: latency, throughput, batch of 1,000
	$(RUN) python -m benchmarks.serve

# --- Stakeholder report ------------------------------------------------------------------
REPORT_HTML := reports/stakeholder/report.html

.PHONY: report
report: $(STAMP) ## Write the stakeholder report and slide deck (dvc repro report) to reports/stakeholder/
	$(RUN) dvc repro report

.PHONY: report-pdf
report-pdf: report system-deps ## Print the stakeholder report to reports/stakeholder/report.pdf
	@# Offline like the browser tests: every host name resolves to nothing.
	profile=$$(mktemp -d) && trap 'rm -rf "$$profile"' EXIT && \
	chromium --headless --no-sandbox --disable-gpu --no-first-run --no-pdf-header-footer \
		--disable-background-networking --host-resolver-rules='MAP * ~NOTFOUND' \
		--user-data-dir="$$profile" --print-to-pdf=reports/stakeholder/report.pdf \
		file://$(CURDIR)/$(REPORT_HTML)
	@ls -l reports/stakeholder/report.pdf

# --- The analysis notebook ------------------------------------------------------------------
# JupyterLab is not in requirements.lock (the tests execute the notebook with nbclient):
# `make notebook` installs it once into .venv from requirements-notebook.lock, which is the
# full lock plus JupyterLab at the same pins (`make lock` writes it): 40 more packages,
# about 30 MB to download, 100 MB installed.
NOTEBOOK := notebooks/analysis.py
NOTEBOOK_STAMP := $(VENV)/.notebook-installed

$(NOTEBOOK_STAMP): $(STAMP) requirements-notebook.lock
	@echo "Installing JupyterLab into $(VENV) from requirements-notebook.lock (about 30 MB to download)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-notebook.lock
	@touch $@

.PHONY: notebook
notebook: $(NOTEBOOK_STAMP) ## Open the analysis notebook in JupyterLab (installs JupyterLab first)
	@# The .py is the notebook's text in git; the paired .ipynb (git-ignored) holds outputs,
	@# and jupytext keeps the two in step on every save. The venv's kernel comes first.
	$(BIN)/jupytext --sync $(NOTEBOOK)
	$(RUN) JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter jupyter lab --ServerApp.ip=127.0.0.1 \
		$(NOTEBOOK:.py=.ipynb)
