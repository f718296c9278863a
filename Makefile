# Baoshan resettlement-sites open dataset. `make help` lists the targets.
# Each stage is a file target, so `make dataset` reruns only what changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RAW    := raw/baoshan_civil_affairs_reply_cppcc_proposal_0132_2021-07-29.txt
BUILD  := build
OUT    := output

# Modules every stage imports; a change to one reruns every stage after ingest.
COMMON := pipeline/__init__.py pipeline/config.py pipeline/errors.py pipeline/yaml_input.py pipeline/model_errors.py \
	pipeline/corroborations.py pyproject.toml
# How the catalogs are read and validated: every stage that reads a catalog depends on these.
CATALOG := pipeline/metadata.py pipeline/catalog_models.py pipeline/expressions.py pipeline/checks.py pipeline/numbers.py

.DEFAULT_GOAL := help
.PHONY: help dataset test check lint bench fuzz clean manifest venv release site FORCE

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create .venv from the lock file

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	@touch $@

dataset: $(OUT)/baoshan_resettlement.duckdb ## build, validate and publish everything into output/

# Make decides which stages are stale; their rules queue them, and the last rule runs the queue in
# one process (pipeline/stages/batch.py), so pandas, pandera, duckdb and pyarrow are imported once. A queued
# stage's old file is removed, so Make sees it as remade and queues every later stage, and a failed
# run leaves it missing, so the next run queues it again.
QUEUE := $(BUILD)/.queue
queue = @mkdir -p $(BUILD) && rm -f $@ && echo $(1) >> $(QUEUE)

$(BUILD)/ingest.json: $(RAW) raw/manifest.yaml pipeline/stages/ingest.py pipeline/catalog_models.py \
		pipeline/expressions.py pipeline/numbers.py $(COMMON) | $(VENV)/.installed
	$(call queue,ingest)

$(BUILD)/extract.json: $(BUILD)/ingest.json pipeline/stages/extract.py pipeline/entities.py pipeline/numbers.py \
		$(CATALOG) pipeline/catalog/figures.yaml pipeline/catalog/entities.yaml \
		pipeline/catalog/glossary.yaml $(COMMON)
	$(call queue,extract)

# The other texts that report the letter's figures: raw/related/ and a catalog folder each (catalog/documents/).
# The folders too: deleting a file changes its folder's time, so a removed catalog file reruns the stage.
RELATED_INPUTS := $(wildcard raw/related raw/related/* pipeline/catalog/documents pipeline/catalog/documents/* \
	pipeline/catalog/documents/*/*.yaml)
$(BUILD)/related.json: $(BUILD)/ingest.json raw/manifest.yaml $(RELATED_INPUTS) pipeline/stages/related.py \
		pipeline/stages/extract.py pipeline/stages/ingest.py pipeline/translation.py pipeline/reference.py \
		pipeline/entities.py \
		pipeline/catalog/figures.yaml pipeline/catalog/tables.yaml $(CATALOG) $(COMMON)
	$(call queue,related)

$(BUILD)/tables/.done: $(BUILD)/extract.json $(BUILD)/related.json pipeline/stages/tables.py pipeline/entity_tables.py pipeline/reference.py \
		pipeline/arrow.py $(CATALOG) pipeline/numbers.py pipeline/translation.py \
		pipeline/catalog/tables.yaml pipeline/catalog/translations.yaml \
		pipeline/catalog/figures.yaml pipeline/catalog/entities.yaml pipeline/catalog/glossary.yaml $(COMMON)
	$(call queue,tables)

$(BUILD)/checks.parquet: $(BUILD)/tables/.done pipeline/stages/validate.py pipeline/checks.py pipeline/crosschecks.py \
		pipeline/reference.py pipeline/stages/tables.py pipeline/arrow.py $(CATALOG) pipeline/translation.py \
		pipeline/catalog/checks.yaml pipeline/catalog/translations.yaml pipeline/entities.py pipeline/catalog/glossary.yaml \
		pipeline/catalog/tables.yaml pipeline/catalog/figures.yaml $(wildcard schemas/*.py) \
		$(COMMON)
	$(call queue,validate)

$(OUT)/baoshan_resettlement.duckdb: $(BUILD)/checks.parquet pipeline/stages/publish.py pipeline/describe.py \
		pipeline/database.py pipeline/output_directory.py pipeline/tree.py pipeline/arrow.py $(CATALOG) \
		pipeline/stages/batch.py pipeline/catalog/tables.yaml \
		$(COMMON)
	@echo publish >> $(QUEUE)
	$(PY) -m pipeline.stages.batch $(QUEUE)

site: $(OUT)/site/index.html ## the dataset page, output/site/index.html: one self-contained file

# The page carries the release date (SOURCE_DATE_EPOCH, else the last commit: pipeline/release/project.py).
# This stamp is rewritten only when that date changes, so a commit makes the page stale and nothing else does.
RELEASE_EPOCH := $(BUILD)/release-epoch
# Committing what `make release` writes into the repository does not move the date (pipeline/release/project.py).
RELEASE_WRITES := ':(exclude)releases.yaml' ':(exclude)CITATION.cff' ':(exclude).zenodo.json'
$(RELEASE_EPOCH): FORCE
	@mkdir -p $(BUILD) && echo "$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct -- . $(RELEASE_WRITES) 2>/dev/null)}" > $@.new \
		&& if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(OUT)/site/index.html: $(OUT)/baoshan_resettlement.duckdb $(RELEASE_EPOCH) \
		$(wildcard pipeline/site/*.py pipeline/site/templates/* pipeline/site/static/*) \
		pipeline/metadata.py pipeline/translation.py pipeline/summary.py pipeline/site/jsonld.py pipeline/catalog/translations.yaml \
		pipeline/release/citation.py pipeline/release/project.py pipeline/release/snippets.py \
		pipeline/release/datapackage.py pipeline/stages/ingest.py raw/manifest.yaml $(COMMON)
	$(PY) -m pipeline.site

FORCE:

test: $(VENV)/.installed ## run the test suite (builds the dataset first)
	$(MAKE) --no-print-directory dataset
	$(PY) -m pytest -n 2

check: $(VENV)/.installed ## the fast tests for an everyday edit: tokenizer, rules, catalog, dataset (tests/conftest.py)
	$(MAKE) --no-print-directory dataset
	$(PY) -m pytest -m check -q -n 2

release: dataset ## versioned release: dist/<name>-<version>/, its zip, and assets in dist/v<version>/
	$(PY) -m pipeline release --dataset $(OUT) --dist dist

lint: $(VENV)/.installed ## ruff, and commit subjects under 72 characters
	$(VENV)/bin/ruff check pipeline schemas tests
	$(PY) -m tests.commit_subjects

fuzz: $(VENV)/.installed ## random catalog and raw-text edits: each must build or fail with a named error (~6 min)
	$(PY) -m tests.fuzz

bench: $(VENV)/.installed ## time build, tests, check and tokenizer in a copy of the tree (~12 min; writes build/bench.json)
	$(PY) -m tests.bench

manifest: $(VENV)/.installed ## record the raw file's hash after a deliberate change
	$(PY) -m pipeline manifest

clean: ## remove everything generated except .venv
	rm -rf $(BUILD) .pytest_cache .hypothesis
	rm -rf $(OUT) .$(OUT)-* .$(OUT).link-*
	rm -rf dist .dist-* .dist.link-*
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
