# Quick start: `make demo` (set up, run the pipeline on the bundled samples) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Azurite (Azure Blob stand-in) comes from the npm registry into .tools/; tests that need it skip without it.
AZURITE := .tools/node_modules/.bin/azurite-blob

.PHONY: setup tools demo test lint schemas bench chaos clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

$(AZURITE):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --no-package-lock --prefix .tools azurite@3 ; \
	else echo "npm not found: Azurite tests will skip" ; fi

tools: $(AZURITE)

setup: $(STAMP)

# Enrichment reference data for the samples (people, accounts, networks, indicators): examples/reference/.
DEMO_ENRICH ?= examples/reference/enrichment.yaml

demo: $(STAMP)
	rm -rf demo-out
	$(BIN)/cloudaudit run --input samples --output demo-out --enrich-config $(DEMO_ENRICH)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) tools
	$(BIN)/ruff check .
	$(BIN)/pytest -q -p no:cacheprovider

schemas: $(STAMP)
	$(BIN)/python -m schemas.export

bench: $(STAMP)
	bash benchmarks/run_all.sh

# Crash, kill and dead-sink tests at full size (tests/chaos): 10 kills of a 500k-event batch run, each
# followed by a rerun, and a refused SIEM port with default settings. CHAOS_EVENTS/CHAOS_KILLS resize it.
chaos: $(STAMP)
	CLOUDAUDIT_CHAOS=1 $(BIN)/pytest -q -p no:cacheprovider -s tests/chaos

clean:
	rm -rf demo-out out bench-out .pytest_cache .ruff_cache
