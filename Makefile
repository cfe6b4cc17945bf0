# The two commands: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv and install the project first, so a fresh clone needs only Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-browser lint install clean docs

run: $(STAMP)
	$(BIN)/bastion db upgrade
	$(BIN)/bastion serve

test: $(STAMP)
	$(BIN)/python -m pytest

# Only the browser tests (Chromium from Debian: apt-get install chromium).
test-browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; install Python 3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artifacts

# Regenerate the documents that come from the settings schema (a test fails when stale).
docs: $(STAMP)
	$(BIN)/bastion config env-example > .env.example
	$(BIN)/python -m bastion.config.reference README.md
	$(BIN)/python -m bastion.config.reference --guide docs/configuration.md
	$(BIN)/python -m bastion.logs.catalogue docs/events.md
