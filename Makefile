# Two commands do all set-up on a fresh machine:
#   make serve   build the site (figures and notebooks included) and serve it on http://127.0.0.1:8000
#   make test    run every test: units, properties, page snippets, docstrings, notebooks, strict build, browser
# Both create the virtual environment in .venv themselves. The site is built by ProperDocs (the
# continuation of MkDocs 1.x) from properdocs.yml.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: serve build test browser-deps lock clean mutation property-coverage

# uv installs the locked packages (with pip, the install took 66 s of a fresh CI run's 300; with uv, 16 s:
# parallel downloads and bytecode compiled on both cores). It is pinned here (`make lock` does not refresh
# it); the venv keeps its own pip, which tests/test_wheel.py builds the wheel with.
UV_VERSION := 0.13.9

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -c requirements.lock -e '.[docs,test]'
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
	$(BIN)/properdocs build --strict

# Live reload: the open page reloads after each rebuild (a change in docs/, properdocs.yml or a watched folder).
serve: $(BIN)/.installed node_modules/.installed
	SITE_URL=http://127.0.0.1:8000/ $(BIN)/properdocs serve --strict --livereload --dev-addr 127.0.0.1:8000

# One xdist worker per core; the site is built once, in the background, for all of them (tests/conftest.py).
# Bytecode is cached even where the environment says PYTHONDONTWRITEBYTECODE (this machine's does): without the
# caches every worker and every subprocess compiled cnnref and pytest rewrote every test module again, each run
# (collecting took 9.0 s instead of 5.8 s per worker). __pycache__/ is ignored by git.
test: $(BIN)/.installed node_modules/.installed browser-deps
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto

# Refresh the locks to the newest releases: requirements.lock from a fresh environment holding the newest
# versions of everything pyproject.toml asks for (on this Python), package.json's exact pins and
# package-lock.json from the npm registry. Then `make test` (it reinstalls .venv from the new lock) and commit.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[docs,test]'
	{ grep '^#' requirements.lock; .lock-venv/bin/python -m pip freeze --all --exclude-editable | grep -v '^pip=='; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf .lock-venv
	npm install --save-exact --no-audit --no-fund $$(node -p "Object.keys(require('./package.json').devDependencies).map(n => n + '@latest').join(' ')")
	rm -f $(BIN)/.installed node_modules/.installed

# Test quality (issue 17), long: not part of `make test`. Each writes its result into benchmarks/, which
# the Performance page shows; each fails naming what is neither reached/killed nor given a reason.
$(BIN)/.mutation: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[mutation]'
	touch $@

# mutmut over cnnref: every mutant against the unit tests and the pages that reach it (hours on 2 cores).
# MODULES="checks shapes" runs those modules' mutants only, adding to the results already in mutants/
# (the report scores the modules run to the end and estimates the others); without it, all, afresh.
MODULES ?=
mutation: $(BIN)/.mutation
	$(if $(MODULES),,rm -rf mutants)
	CNNREF_WHOLE_PAGES=1 HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children 2 $(foreach m,$(MODULES),"cnnref.$(m).*")
	$(BIN)/python tools/mutation_report.py

# Branch coverage of cnnref by the property tests alone (a few minutes).
property-coverage: $(BIN)/.mutation
	$(BIN)/python tools/property_coverage.py

clean:
	rm -rf site .pytest_cache .hypothesis mutants
