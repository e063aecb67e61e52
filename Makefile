# Quick start: `make demo` (set up, run the pipeline on the bundled samples) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Azurite (Azure Blob stand-in) comes from the npm registry into .tools/; tests that need it skip without it.
AZURITE := .tools/node_modules/.bin/azurite-blob

.PHONY: setup tools demo test lint schemas bench clean dataflow-template dataflow-requirements dataflow-verify

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

# Dataflow (docs/deploy-dataflow.md): the image's build context and the Flex Template's metadata.json in
# build/dataflow-template/; the pinned worker requirements; the context checked in a fresh venv (no Docker).
dataflow-template: $(STAMP)
	$(BIN)/python dataflow/make_template.py --out build/dataflow-template

dataflow-requirements: $(STAMP)
	$(BIN)/python dataflow/pin_requirements.py --extras aws,gcp,azure,sinks > dataflow/requirements.txt

dataflow-verify: dataflow-template
	PYTHON=$(PYTHON) bash dataflow/verify_context.sh build/dataflow-template build/dataflow-venv

clean:
	rm -rf demo-out out bench-out build .pytest_cache .ruff_cache
