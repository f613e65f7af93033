# Navigator. `make run` and `make test` do all set-up themselves; a second run with nothing changed does no work.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
NAVIGATOR := $(VENV)/bin/navigator
INDEX_DIR ?= var/index
KNOWLEDGE := $(shell find knowledge -name '*.yaml' 2>/dev/null)
SOURCES := $(shell find index navigator -name '*.py' 2>/dev/null)

# Models are never downloaded: everything loads from installed packages.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export NAVIGATOR_INDEX_DIR ?= $(abspath $(INDEX_DIR))

.PHONY: help setup index run test test-unit eval bench validate clean

help:
	@echo "make run      start Navigator (sets everything up first)"
	@echo "make test     run the whole test suite"
	@echo "make eval     matching quality on the labelled queries"
	@echo "make bench    speed and memory figures"
	@echo "make validate check the catalogue"

setup: $(VENV)/.installed $(RASA_VENV)/.installed

$(VENV)/.installed: requirements/app.lock pyproject.toml
	scripts/make-venv $(VENV) 3.11 requirements/app.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	@touch $@

$(RASA_VENV)/.installed: requirements/rasa.lock
	scripts/make-venv $(RASA_VENV) 3.10 requirements/rasa.lock
	@touch $@

# The index is rebuilt (incrementally) only when the catalogue or the engine changed.
$(INDEX_DIR)/.built: $(KNOWLEDGE) $(SOURCES) $(VENV)/.installed
	$(NAVIGATOR) index build
	@touch $@

index: $(INDEX_DIR)/.built

validate: $(VENV)/.installed
	$(NAVIGATOR) knowledge validate

run: setup index
	$(NAVIGATOR) search

test: setup
	$(VENV)/bin/pytest

test-unit: $(VENV)/.installed
	$(VENV)/bin/pytest -m "not integration"

eval: setup index
	$(NAVIGATOR) eval

bench: setup index
	$(NAVIGATOR) bench

clean:
	rm -rf var .pytest_cache
