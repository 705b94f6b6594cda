# One entry point for a newcomer, for CI and for the developers.
#   make demo     install (the connector only, no development tools), start a local Label Studio
#                 with 8 annotator users, run the connector's whole loop on real data
#   make report   install and run the offline report on the bundled MT-Bench example
#   make check    format check, lint, types and tests (what .ci/run runs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# the demo needs the connector and its runtime dependencies only (no test or lint tools)
DEMO_STAMP = $(VENV)/.installed-runtime

.PHONY: install demo report check format lint types test bench clean
LS_PORT ?= 8089
# where start.sh keeps Label Studio's venv (~1 GB, installed once), data and env files
LS_HOME ?= $(CURDIR)/.cache/label-studio
DEMO_ANNOTATORS = 8

# constraints.txt pins every dependency to the versions make check was last run with (the lock
# file CI, the demo and the Docker image install from; see its header to regenerate it).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	# irrCAC (independent Gwet AC1/AC2 implementation, tests only) pins an old SciPy it does not need
	$(BIN)/pip install --quiet -c constraints.txt --no-deps 'irrCAC==0.4.4'
	# crowd-kit (independent Dawid-Skene, tests and bench_consensus only) requires transformers,
	# which its classification aggregators do not import; its nltk import is in the dev extra
	$(BIN)/pip install --quiet -c constraints.txt --no-deps 'crowd-kit==1.4.2'
	# torch (CPU build), transformers and trl: tests/test_export_trl.py trains TRL's RewardTrainer
	# on an export (pytest -m "not trl" leaves it out); torch pinned so pip picks no other build
	$(BIN)/pip install --quiet -c constraints.txt 'torch==2.13.0' transformers trl
	touch $(STAMP)

# (a development install, `make install`, already holds it all)
$(DEMO_STAMP): pyproject.toml constraints.txt
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ] && [ $(STAMP) -nt constraints.txt ]; then \
		echo "using the development install in $(VENV)"; \
	else \
		$(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --upgrade pip && \
		$(BIN)/pip install --quiet -c constraints.txt -e . ; \
	fi
	touch $(DEMO_STAMP)

install: $(STAMP)

report: $(STAMP)
	$(BIN)/iaa-connector report examples/mt-bench/judgments.jsonl --rubric rubrics/mt-bench/v1.yaml \
		--json build/mt-bench-report.json --md build/mt-bench-report.md --html build/mt-bench-report.html
	@echo "open build/mt-bench-report.html"

demo: $(DEMO_STAMP)
	@curl -sf http://127.0.0.1:$(LS_PORT)/health >/dev/null && [ -f $(LS_HOME)/server-$(LS_PORT).env ] \
		|| IAA_LS_HOME=$(LS_HOME) IAA_LS_PORT=$(LS_PORT) IAA_LS_ANNOTATORS=$(DEMO_ANNOTATORS) \
		deploy/label-studio/start.sh
	$(BIN)/python scripts/demo.py --env $(LS_HOME)/server-$(LS_PORT).env $(DEMO_ARGS)
	@echo "Label Studio keeps running on http://127.0.0.1:$(LS_PORT) (admin@iaa.local / iaa-ls-password);"
	@echo "stop it with: IAA_LS_HOME=$(LS_HOME) deploy/label-studio/stop.sh $(LS_PORT)"

format:
	$(BIN)/ruff format connector tests benchmarks scripts

check: $(STAMP)
	$(BIN)/ruff format --check connector tests benchmarks scripts
	$(BIN)/ruff check connector tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py --judgments 1000000
	$(BIN)/python benchmarks/bench_labelstudio.py --tasks 5000
	$(BIN)/python benchmarks/bench_argilla.py --records 2000

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
