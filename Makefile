# spinscope developer commands. Each target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The French war-coverage example next to the checkout, else an article written for spinscope.
EXAMPLE ?= $(firstword $(wildcard ../shared/examples/fr-liman-nuclear.txt) examples/harbour-closure.txt)

.PHONY: demo test test-fast lint format fuzz load screenshot extension install train finetune finetune-folds bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Analyse the example article and print the report.
demo: $(STAMP)
	$(BIN)/spinscope analyze $(EXAMPLE)

## Run the test suite (the command CI runs).
test: $(STAMP)
	$(BIN)/pytest -q

## Lint (ruff), formatting (ruff format --check), types (mypy) and the import layers (import-linter); CI runs it.
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

## Fix what ruff can fix and format the code.
format: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks scripts
	$(BIN)/ruff format src tests benchmarks scripts

## The suite without the slow tests that train and embed real data (for a quick check while editing).
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

## Fuzz every reader with thousands of hypothesis examples per test (about 10 minutes on 2 cores; CI runs a fixed 100).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q tests/test_fuzz.py

## The API's load test on loopback (repeated and fresh articles, 1 to 32 clients): the README's table.
load: $(STAMP)
	$(BIN)/python benchmarks/load_api.py

## Refresh the README's screenshots of the web page and of the browser extension (needs Debian's chromium).
screenshot: $(STAMP)
	SPINSCOPE_SCREENSHOT=$(CURDIR)/docs/screenshot.png $(BIN)/pytest -q tests/test_browser.py -k highlights
	SPINSCOPE_EXTENSION_SCREENSHOT=$(CURDIR)/docs/extension.png $(BIN)/pytest -q tests/test_extension.py -k highlights

## Build the browser extension (Readability bundled, from the pinned npm packages) into extension/dist/extension,
## check it with web-ext lint, and zip it for the browser stores: extension/dist/spinscope-extension-VERSION.zip.
extension:
	cd extension && npm ci --no-audit --no-fund && node build.mjs --zip && npx --no-install web-ext lint --source-dir dist/extension

## Retrain the shipped models from ../shared/data (about an hour on 2 cores with an empty cache; the span
## tagger takes most of it: 5-fold CV, leave-one-language-out CV and the choice of its settings).
train: $(STAMP)
	$(BIN)/spinscope train ../shared/data/semeval2023 ../shared/data/semeval2025 --output src/spinscope/trained

## Fine-tune the encoder (top 4 layers, on the training articles outside the held-out split) and fit every
## model on it, into build/finetuned (about 80 minutes on 2 cores). The shipped encoder/e5-small-layers.onnx
## and trained/ came from this; spinscope heldout compares a new one with them before it replaces them.
finetune: $(STAMP)
	$(BIN)/spinscope train ../shared/data/semeval2023 ../shared/data/semeval2025 --output build/finetuned --encoder --hold-out

## k-fold fine-tuning (issue 22): the encoder fine-tuned without each of folds 0-2 of the held-out
## split's five and scored on it; prints each score's mean and spread. About an hour a fold on 2 cores
## (fine-tuning 35 minutes, then every article encoded again); runs resume, scores stay in build/kfold.
finetune-folds: $(STAMP)
	$(BIN)/spinscope kfold ../shared/data/semeval2023 ../shared/data/semeval2025 --output build/kfold

bench: $(STAMP)
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) build *.egg-info extension/dist extension/node_modules
