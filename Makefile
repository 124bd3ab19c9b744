# Pingan — the two commands a new user needs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# pytest-xdist workers for the whole suite (docs/testing.md, "CI")
PYTEST_PARALLEL ?= -n 2 --dist worksteal

.PHONY: messages demo test test-only install dev vendor browser-deps lint format typecheck migrations-check deploy-check ci clean gates audit sbom secrets-check

demo: install vendor ## install, build front-end files, load the demo district and serve it on :8000
	$(BIN)/pingan demo

test: dev vendor browser-deps ## install dev dependencies and run the whole suite
	$(BIN)/pytest $(PYTEST_PARALLEL)

test-only: ## run the suite without reinstalling (DATABASE_URL selects the database)
	$(BIN)/pytest $(PYTEST_PARALLEL)

# --- quality gates (docs/testing.md) ------------------------------------------------------------------
gates: dev vendor browser-deps ## only the gates: API fuzzing, cross-jurisdiction matrix, pages, secrets (DATABASE_URL selects the database)
	$(BIN)/pytest $(PYTEST_PARALLEL) -m gates

audit: dev node_modules/.package-lock.json ## known-vulnerable dependencies (pip-audit, npm audit); exit 3 = advisory data unreachable, not a pass
	$(BIN)/python scripts/audit_deps.py

sbom: dev node_modules/.package-lock.json ## CycloneDX SBOMs of the Python and npm packages, in var/sbom/
	$(BIN)/python scripts/sbom.py

# --- benchmarks (docs/benchmarks.md) -----------------------------------------------------------------------
# Every bench/bench_*.py against its own scratch PostgreSQL database (pingan_bench_*, created when missing;
# BENCH_PG_URL is the server), output in var/bench/<script>.txt with the machine, date and load average
# (the machine may be shared: compare CPU-seconds, not only wall time). Copy the figures to docs/benchmarks.md.
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432
.PHONY: bench
bench: dev ## run every benchmark in bench/ on scratch PostgreSQL databases; output in var/bench/
	$(BIN)/pip install --quiet -e '.[bench]'
	@mkdir -p var/bench
	@set -o pipefail; for script in bench/bench_*.py; do \
		name=$$(basename $$script .py); db=pingan_$${name}; \
		echo "== $$script ($$db)"; \
		{ echo "# $$script — $$(date -u +%FT%TZ) — $$(uname -m), $$(nproc) CPUs — load average: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
		  $(BIN)/python $$script --database-url $(BENCH_PG_URL)/$$db; } 2>&1 | tee var/bench/$$name.txt || exit 1; \
	done

secrets-check: ## no private key, key file, production key, password or demo password in the repository
	$(PYTHON) scripts/check_secrets.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

src/pingan/static/vendor/.copied: node_modules/.package-lock.json scripts/copy-vendor.mjs
	node scripts/copy-vendor.mjs
	touch $@

vendor: src/pingan/static/vendor/.copied

browser-deps: ## Debian's chromium and CJK fonts for the browser tests (Playwright drives /usr/bin/chromium)
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  echo "installing chromium and fonts-noto-cjk from Debian"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

lint:
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format:
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

typecheck:
	$(BIN)/mypy

migrations-check:
	$(BIN)/pingan makemigrations --check --dry-run

deploy-check: ## production settings must pass Django's deployment checks
	PINGAN_ENV=production PINGAN_SECRET_KEY=$$($(BIN)/python -c 'import secrets;print(secrets.token_urlsafe(64))') \
	  PINGAN_FIELD_KEYS=k1:$$($(BIN)/python -c 'import os,base64;print(base64.b64encode(os.urandom(16)).decode())') \
	  PINGAN_INDEX_KEY=$$($(BIN)/python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())') \
	  PINGAN_MAC_KEY=$$($(BIN)/python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())') \
	  PINGAN_ALLOWED_HOSTS=pingan.example.gov.cn PINGAN_VAR_DIR=$$(mktemp -d) \
	  $(BIN)/pingan check --deploy --fail-level WARNING

ci: ## what .ci/run does
	bash .ci/run

clean:
	rm -rf $(VENV) node_modules src/pingan/static/vendor var/static

messages: ## refresh the English catalogue from the marked strings, then compile it
	cd src/pingan && ../../$(BIN)/pingan makemessages -l en --no-obsolete --ignore 'static/*'
	cd src/pingan && ../../$(BIN)/pingan compilemessages -l en
