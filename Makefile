# Opstap: two commands on a fresh machine (only python3 and make needed).
#   make run   - virtualenv, install from the lock file, migrate, start on SQLite
#                (web chat on http://127.0.0.1:8080/)
#   make test  - ruff, mypy --strict, pytest
# More: make help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Pinned with hashes from pyproject.toml by `make lock`; installs never resolve on their own.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider
# Two workers, a test file each at a time (pytest-xdist): the end-to-end tests mostly wait for
# Telegram's pacing, so two halve the run on two cores. PYTEST_WORKERS= runs serially.
PYTEST_WORKERS ?= -n 2 --dist loadfile
LOCK_FLAGS ?=
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet $(LOCK_FLAGS)

.PHONY: help run test test-fast lint typecheck pytest fmt coverage goldens migration lock i18n \
	bench eval-safety safety-forms safety-model clean

help:
	@echo "make run        start on SQLite (web chat on http://127.0.0.1:8080/)"
	@echo "make test       ruff, mypy --strict and every test (CI=1: PostgreSQL required)"
	@echo "make test-fast  ruff, mypy and the tests without end-to-end ones"
	@echo "make fmt        ruff format (and import order) on the .py files changed since main"
	@echo "make coverage   the tests with a line and branch coverage report"
	@echo "make goldens    rewrite the golden transcripts (review the diff)"
	@echo "make migration  NAME=0006_feature MSG='what it adds': draft a migration"
	@echo "make i18n       templates (.pot) from the Dutch catalogs, update every language, check"
	@echo "make lock       pin the dependencies of pyproject.toml into $(LOCK) and $(DEV_LOCK)"
	@echo "                (LOCK_FLAGS=--upgrade for the newest allowed versions)"
	@echo "make bench      benchmarks (ratios);  make eval-safety  crisis detector per language"
	@echo "make safety-model  retrain the crisis classifier from the corpus (never held-out batches)"

$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/python -m bot.devkey .env
	$(BIN)/opstap run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(PYTEST) $(PYTEST_WORKERS)

test: lint typecheck pytest

test-fast: lint typecheck $(STAMP)
	$(PYTEST) $(PYTEST_WORKERS) -m "not e2e"

# The tree is not formatted yet (that lands in one go, so no branch conflicts): by default
# this formats the Python files changed since main; FILES="a.py b.py", or FILES=. for all.
FILES ?= $(shell { git diff --name-only --diff-filter=d "$$(git merge-base main HEAD)" -- '*.py'; \
	git ls-files --others --exclude-standard -- '*.py'; } 2>/dev/null | sort -u)
fmt: $(STAMP)
	@test -n "$(strip $(FILES))" || { echo "fmt: no changed Python files (FILES=... to choose)"; exit 0; }
	$(BIN)/ruff check --select I --fix $(FILES)
	$(BIN)/ruff format $(FILES)

coverage: $(STAMP)
	$(PYTEST) --cov=bot --cov=flows --cov=storage --cov-branch --cov-report=term-missing:skip-covered

goldens: $(STAMP)
	$(PYTEST) tests/flows/test_golden.py --regen-golden
	git diff --stat -- tests/flows/golden

# Translators' workflow (bot/catalogs.py, docs/i18n.md): a new text goes into
# locales/nl/LC_MESSAGES/<domain>.po first; this writes locales/<domain>.pot, adds the id to
# every language of that domain (empty, to translate) and checks that everything loads.
i18n: $(STAMP)
	$(BIN)/python -m bot.catalogs

NAME ?=
MSG ?=
migration: $(STAMP)
	@test -n "$(NAME)" -a -n "$(MSG)" || { echo "make migration NAME=0006_feature MSG='what it adds'"; exit 2; }
	$(BIN)/python -m storage.new_migration "$(NAME)" "$(MSG)"

# After a change to the dependencies in pyproject.toml (tests/test_dependencies.py fails until
# the lock files agree). After a merge conflict in a lock file: take either side, run this.
# Pins stay where they are unless needed; `make lock LOCK_FLAGS=--upgrade` moves them all.
lock: $(STAMP)
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .

bench: $(STAMP)
	$(BIN)/python -m bench

eval-safety: $(STAMP)
	$(BIN)/python -m bot.safety.evaluate

# Rebuild flows/safety/lexicon/forms/*.json from simplemma after changing a concept term.
safety-forms: $(STAMP)
	$(BIN)/python -m bot.safety.forms

# Retrain flows/safety/model/model.json from the corpus and the tuning batches (plain Python,
# deterministic) after the corpus, a concept or the normaliser changes.
safety-model: $(STAMP)
	$(BIN)/python -m bot.safety.train

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
