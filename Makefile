# Two commands do all set-up on a fresh machine:
#   make serve   build the site (figures and notebooks included) and serve it on http://127.0.0.1:8000
#   make test    run every test: units, properties, page snippets, docstrings, notebooks, strict build, browser
# Both create the virtual environment in .venv themselves.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve build test browser-deps clean mutation property-coverage

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[docs,test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# Debian's chromium for the browser tests (the machine has no other browser; Playwright's own download fails offline).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

build: $(BIN)/.installed node_modules/.installed
	$(BIN)/mkdocs build --strict

serve: $(BIN)/.installed node_modules/.installed
	SITE_URL=http://127.0.0.1:8000/ $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8000

test: $(BIN)/.installed node_modules/.installed browser-deps
	$(BIN)/pytest

# Test quality (issue 17), long: not part of `make test`. Each writes its result into benchmarks/, which
# the Performance page shows; each fails naming what is neither reached/killed nor given a reason.
$(BIN)/.mutation: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[mutation]'
	touch $@

# mutmut over cnnref: every mutant against the unit tests and the pages that reach it (hours on 2 cores).
mutation: $(BIN)/.mutation
	rm -rf mutants
	CNNREF_WHOLE_PAGES=1 HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children 2
	$(BIN)/python tools/mutation_report.py

# Branch coverage of cnnref by the property tests alone (a few minutes).
property-coverage: $(BIN)/.mutation
	$(BIN)/python tools/property_coverage.py

clean:
	rm -rf site .pytest_cache .hypothesis mutants
