# Quick start: `make demo` (set up, run the pipeline on the bundled samples) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Azurite (Azure Blob stand-in) comes from the npm registry into .tools/; tests that need it skip without it.
AZURITE := .tools/node_modules/.bin/azurite-blob
# ECS field definitions (ecs_flat) for the ECS projection tests; they skip without it.
ECS_FLAT := .tools/node_modules/@elastic/ecs/generated/ecs_flat.js

.PHONY: setup tools demo test lint schemas bench chaos clean infra-check constraints dataflow-template dataflow-requirements dataflow-verify

# constraints.txt pins every package to the version the test suite passed with, so a fresh machine (and
# CI) installs what was tested; `make constraints` rewrites it from the current venv after an upgrade.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

constraints: $(STAMP)
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

$(AZURITE):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --no-package-lock --prefix .tools azurite@3 ; \
	else echo "npm not found: Azurite tests will skip" ; fi

# checkov (terraform static analysis) in its own venv: its pinned dependencies clash with the project's.
CHECKOV_VENV := .tools/checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov

$(CHECKOV):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q "checkov==3.3.30"


$(ECS_FLAT):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --no-package-lock --prefix .tools @elastic/ecs@9 ; \
	else echo "npm not found: ECS projection tests will skip" ; fi

tools: $(AZURITE) $(ECS_FLAT) $(CHECKOV)

setup: $(STAMP)

# Enrichment reference data for the samples (people, accounts, networks, indicators): examples/reference/.
DEMO_ENRICH ?= examples/reference/enrichment.yaml

demo: $(STAMP)
	rm -rf demo-out
	$(BIN)/cloudaudit run --input samples --output demo-out --enrich-config $(DEMO_ENRICH)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) tools infra-check
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider

# terraform/ offline (providers are not downloaded): fmt, the HCL wiring/README test, checkov.
infra-check: $(STAMP) $(CHECKOV)
	terraform fmt -check -recursive -diff terraform
	$(BIN)/python terraform/readme.py --check
	$(BIN)/pytest -q -p no:cacheprovider tests/infra/test_terraform.py -k "not outputs_read and not checkov and not fmt"
	BC_SKIP_MAPPING=TRUE $(CHECKOV) -d terraform --framework terraform --quiet --compact

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

# Crash, kill and dead-sink tests at full size (tests/chaos): 10 kills of a 500k-event batch run, each
# followed by a rerun, and a refused SIEM port with default settings. CHAOS_EVENTS/CHAOS_KILLS resize it.
# Streaming: 20 kill -9 of streaming runs per source (SQS, Pub/Sub, Event Hubs; CHAOS_STREAM_KILLS).
chaos: $(STAMP)
	CLOUDAUDIT_CHAOS=1 $(BIN)/pytest -q -p no:cacheprovider -s tests/chaos

clean:
	rm -rf demo-out out bench-out build .pytest_cache .ruff_cache
