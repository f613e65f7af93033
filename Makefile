# Navigator. `make run` and `make test` do all set-up themselves; a second run with nothing changed does no work.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
NAVIGATOR := $(VENV)/bin/navigator
INDEX_DIR ?= var/index
RASA := $(RASA_VENV)/bin/rasa
MODEL := var/models/navigator.tar.gz
KNOWLEDGE := $(shell find knowledge -name '*.yaml' 2>/dev/null)
SOURCES := $(shell find index navigator -name '*.py' 2>/dev/null)
BOT := bot/config.yml bot/domain.yml $(shell find bot/data -name '*.yml' 2>/dev/null)

# Models are never downloaded: everything loads from installed packages.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# Rasa sends usage data to its vendor unless told not to; no target talks to a third party.
export RASA_TELEMETRY_ENABLED := false
export NAVIGATOR_INDEX_DIR ?= $(abspath $(INDEX_DIR))

.PHONY: help setup index model run cluster shell test test-bot test-unit eval bench validate validate-bot clean

help:
	@echo "make run      start Navigator (sets everything up first)"
	@echo "make cluster  2 Rasa servers and 2 services behind HAProxy, on PostgreSQL and Redis (docs/deploy.md)"
	@echo "make test     run the whole test suite"
	@echo "make eval     matching quality on the labelled queries"
	@echo "make bench    speed and memory figures"
	@echo "make shell    talk to the assistant in the terminal"
	@echo "make validate check the catalogue"

WIDGET := web/widget

setup: $(VENV)/.installed $(RASA_VENV)/.installed $(WIDGET)/node_modules/.installed

# The website chat widget (rasa-webchat) from npm, exactly as locked; installed again only when the lock changes.
$(WIDGET)/node_modules/.installed: $(WIDGET)/package.json $(WIDGET)/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 18 or later) is needed for the chat widget: apt-get install nodejs npm" >&2; exit 1; }
	cd $(WIDGET) && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

# Debian's Chromium for the browser tests, so only `make test` needs it (Playwright's own browser download
# cannot work here); instant when installed.
.PHONY: chromium
chromium:
	@scripts/install-chromium

# Debian's PostgreSQL and Redis programs: the tests start throwaway servers from them themselves (tests/servers.py);
# instant when installed.
.PHONY: test-servers
test-servers:
	@scripts/install-test-servers

# Debian's HAProxy for `make cluster` and the cluster tests, which run it with their own configuration; instant when
# installed, and Debian's own HAProxy service is never started.
.PHONY: haproxy
haproxy:
	@scripts/install-haproxy

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

# The Rasa model is trained only when the bot's configuration, domain or data changed.
$(MODEL): $(BOT) $(RASA_VENV)/.installed
	cd bot && ../$(RASA) train --fixed-model-name navigator --out ../var/models
	@touch $@

model: $(MODEL)

validate-bot: $(RASA_VENV)/.installed
	cd bot && ../$(RASA) data validate --fail-on-warnings

# The assistant's own checks: data validation, NLU on each language's held-out set (English, Swedish), each gated
# on its own, and the test stories. The Swedish gate is a floor under today's intent macro F1 (0.874) until it
# reaches the 0.90 the English set is held to (docs/benchmarks.md, the NLU section).
SWEDISH_NLU_FLOOR := 0.85
test-bot: validate-bot model
	cd bot && ../$(RASA) test nlu --nlu tests/nlu_test.yml --model ../$(MODEL) --out ../var/results/nlu
	$(RASA_VENV)/bin/python scripts/check-nlu-report var/results/nlu/intent_report.json 0.90
	cd bot && ../$(RASA) test nlu --nlu tests/nlu_test_sv.yml --model ../$(MODEL) --out ../var/results/nlu-sv
	$(RASA_VENV)/bin/python scripts/check-nlu-report var/results/nlu-sv/intent_report.json $(SWEDISH_NLU_FLOOR)
	cd bot && ../$(RASA) test core --stories tests/test_stories.yml --model ../$(MODEL) \
		--out ../var/results/core --fail-on-prediction-errors

run: setup index model
	$(NAVIGATOR) run

# Needs NAVIGATOR_DATABASE_URL and NAVIGATOR_TRACKER_DB_URL on PostgreSQL and NAVIGATOR_REDIS_URL (docs/deploy.md).
cluster: setup index model haproxy
	$(NAVIGATOR) cluster

shell: setup index model
	scripts/shell

test: setup chromium test-servers haproxy index model
	$(NAVIGATOR) eval --check --no-multipart
	$(VENV)/bin/pytest
	$(MAKE) --no-print-directory test-bot

test-unit: $(VENV)/.installed
	$(VENV)/bin/pytest -m "not integration"

eval: setup index
	$(NAVIGATOR) eval

# The load runs (tests/load/run.py) start make run's pair and the cluster on throwaway PostgreSQL and Redis.
bench: setup index model test-servers haproxy
	$(NAVIGATOR) bench
	$(NAVIGATOR) bench-chat
	$(NAVIGATOR) bench-requests
	$(NAVIGATOR) bench-api
	$(VENV)/bin/python -m tests.web.bench_outcomes --postgres
	$(VENV)/bin/python -m tests.channels.slack.bench_webhook
	$(VENV)/bin/python -m tests.channels.teams.bench_webhook
	$(VENV)/bin/python -m tests.load.run
	$(VENV)/bin/python -m tests.fuzz.bench
	$(VENV)/bin/python -m tests.load.noisy_neighbour

clean:
	rm -rf var .pytest_cache
