# Opstap: two commands on a fresh machine (only python3 and make needed).
#   make run   - virtualenv, install, migrate, start on SQLite (web chat on http://127.0.0.1:8080/)
#   make test  - ruff, mypy --strict, pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest bench eval-safety safety-forms clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/python -m bot.devkey .env
	$(BIN)/opstap run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench

eval-safety: $(STAMP)
	$(BIN)/python -m bot.safety.evaluate

# Rebuild flows/safety/lexicon/forms/*.json from simplemma after changing a concept term.
safety-forms: $(STAMP)
	$(BIN)/python -m bot.safety.forms

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
