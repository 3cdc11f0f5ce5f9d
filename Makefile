# policywatch: two commands for a new user.  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install chromium feed-tools axe lint clean

demo: $(STAMP)  ## install, then replay real Meta history through a local stand-in and publish
	$(BIN)/policywatch demo

test: $(STAMP) chromium feed-tools axe  ## install (+ Chromium, jing, newsboat, axe-core for the tests), lint, run every test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

install: $(STAMP)

chromium:  ## Debian's chromium for the browser tests (POLICYWATCH_CHROMIUM overrides)
	bash scripts/install-chromium.sh

axe:  ## axe-core (npm) for the accessibility checks, into a cache folder
	bash scripts/install-axe.sh

feed-tools:  ## Debian's jing and newsboat for the feed tests (validity, a real reader)
	bash scripts/install-feed-tools.sh

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "policywatch needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -m pip check
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-output .pytest_cache
