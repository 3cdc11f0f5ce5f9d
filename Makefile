# policywatch: two commands for a new user.  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-postgres install chromium feed-tools axe lint clean

demo: $(STAMP)  ## install, then replay real Meta history through a local stand-in and publish
	$(BIN)/policywatch demo

# Run again on PostgreSQL: the tests of storage, the pipeline and concurrency, and the fault
# tests where the database decides (commit points, two writers, heartbeats, re-derivation);
# their SQLite-only cases are marked sqlite_only. Kills of a single crawl are the same on
# both databases: SQLite only, to keep this pass short.
PG_TESTS := tests/test_storage.py tests/test_pipeline.py tests/test_concurrency.py tests/test_blobstore.py \
	tests/test_faults_commit.py tests/test_faults_heartbeat.py \
	tests/test_faults_kill.py::test_two_crawls_at_once_store_each_transition_once \
	tests/test_faults_kill.py::test_a_crawl_and_a_replay_at_once \
	tests/test_rederive.py::test_rederive_with_the_same_extractor_changes_nothing \
	tests/test_rederive.py::test_an_upgraded_extractor_gives_technical_changes_never_alerts \
	tests/test_parallel_derive.py tests/test_prepared.py tests/test_feed_validity.py

# Two worker processes (pytest-xdist), each file on one worker: most tests wait on processes,
# servers and Chromium, so two at a time fit two cores. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

test: $(STAMP) chromium feed-tools axe  ## install (+ Chromium, jing, newsboat, axe-core for the tests), lint, run every test
	$(BIN)/ruff check .
	POLICYWATCH_TEST_DB= $(PYTEST)
	$(MAKE) --no-print-directory test-postgres

test-postgres: $(STAMP)  ## the database tests on PostgreSQL (POLICYWATCH_TEST_DB, or a throwaway cluster)
	bash scripts/install-postgres.sh $(PYTEST) -q $(PG_TESTS)

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
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,postgres,s3]'
	$(BIN)/python -m pip check
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-output .pytest_cache
