# One entry point for a newcomer, for CI and for the developers.
#   make report   install into .venv and run the offline report on the bundled MT-Bench example
#   make check    format check, lint, types and tests (what .ci/run runs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install report check format lint types test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# irrCAC (independent Gwet AC1/AC2 implementation, tests only) pins an old SciPy it does not need
	$(BIN)/pip install --quiet --no-deps 'irrCAC==0.4.4'
	touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	$(BIN)/iaa-connector report examples/mt-bench/judgments.jsonl --rubric rubrics/mt-bench/v1.yaml \
		--json build/mt-bench-report.json --md build/mt-bench-report.md --html build/mt-bench-report.html
	@echo "open build/mt-bench-report.html"

format:
	$(BIN)/ruff format connector tests benchmarks scripts

check: $(STAMP)
	$(BIN)/ruff format --check connector tests benchmarks scripts
	$(BIN)/ruff check connector tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py --judgments 1000000

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
