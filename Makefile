# shopassist: `make run` sets everything up and runs the assistant on its embedded defaults;
# `make test` runs the checks and the fast tests (what CI runs); `make test-full` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
PYTEST_ARGS ?=

.PHONY: help install run check format test test-full bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first: anything that pulls torch later must find it installed, or pip fetches CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# obp pins Python < 3.11 and old numpy: its data (the Open Bandit Dataset sample) is all we use.
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python obp==0.5.7
	# Debian's Chromium (and a CJK font) for the browser tests: playwright never downloads one.
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-zenhei)
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install shopassist with its dev tools

run: $(STAMP)  ## set up the demo world, its index and a promoted ranker (idempotent), chat in both languages, then serve UI, API and widget on 127.0.0.1:7860
	$(BIN)/shopassist db upgrade
	$(BIN)/shopassist data demo
	$(BIN)/shopassist index
	$(BIN)/shopassist train ranker --promote --if-missing
	$(BIN)/shopassist chat --user demo-shopper "running shoes under \$$80, no Nike"
	$(BIN)/shopassist chat --user demo-shopper "有没有打折的羽绒服"
	@echo
	@echo "shopassist is starting on http://127.0.0.1:7860 (Ctrl-C stops it):"
	@echo "  shopper chat  http://127.0.0.1:7860/ui"
	@echo "  API docs      http://127.0.0.1:7860/docs"
	@echo "  widget        http://127.0.0.1:7860/widget.js; for the sample shop page with it, run in"
	@echo "                another terminal: $(BIN)/python examples/widget_host/app.py --port 8000"
	@echo "                and open http://127.0.0.1:8000/ (examples/widget_host/README.md)"
	$(BIN)/shopassist serve --host 127.0.0.1 --port 7860

check: $(STAMP)  ## ruff, mypy and the import-boundary contracts
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)  ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: check  ## checks, then every test not marked slow, then each benchmark's --quick smoke run
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)
	$(BIN)/python benchmarks/deals.py --quick
	$(BIN)/python benchmarks/world.py --quick
	$(BIN)/python benchmarks/embeddings.py --quick
	$(BIN)/python benchmarks/chroma_raw.py --quick
	$(BIN)/python benchmarks/retrieval.py --quick
	$(BIN)/python benchmarks/intent.py --quick
	$(BIN)/python benchmarks/turns.py --quick
	$(BIN)/python benchmarks/ranking.py --quick
	$(BIN)/python benchmarks/ranking_devices.py --quick
	$(BIN)/python benchmarks/policy.py --quick
	$(BIN)/python benchmarks/load.py --quick

test-full: check  ## checks, every test including slow ones, and the full benchmarks
	$(BIN)/pytest $(PYTEST_ARGS)
	$(BIN)/python benchmarks/deals.py
	$(BIN)/python benchmarks/world.py
	$(BIN)/python benchmarks/embeddings.py
	$(BIN)/python benchmarks/chroma_raw.py
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/intent.py
	$(BIN)/python benchmarks/turns.py
	$(BIN)/python benchmarks/ranking.py
	$(BIN)/python benchmarks/ranking_devices.py
	$(BIN)/python benchmarks/policy.py
	$(BIN)/python benchmarks/load.py

bench: $(STAMP)  ## the full benchmarks, output saved under docs/
	$(BIN)/python benchmarks/deals.py --output docs/deals-latest.md
	$(BIN)/python benchmarks/world.py --output docs/world-sim-latest.md
	$(BIN)/python benchmarks/embeddings.py --output docs/embeddings-latest.md
	$(BIN)/python benchmarks/chroma_raw.py --output docs/chroma-raw-latest.md
	$(BIN)/python benchmarks/retrieval.py --output docs/retrieval-latest.md
	$(BIN)/python benchmarks/intent.py --output docs/intent.md
	$(BIN)/python benchmarks/intent.py --llm embedded --output docs/intent.md
	$(BIN)/python benchmarks/turns.py --output docs/assistant.md
	$(BIN)/python benchmarks/turns.py --llm embedded --output docs/assistant.md
	$(BIN)/python benchmarks/ranking.py --output docs/ranking.md
	$(BIN)/python benchmarks/policy.py --output docs/policy-latest.md
	$(BIN)/python benchmarks/load.py --output docs/load.md

clean:  ## remove the venv and local data
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
