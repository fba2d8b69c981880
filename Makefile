# ferrosocket developer tasks. `make` alone lists them.
# Needs only Rust (cargo), Python 3.11+ with pip, and the package registries:
# everything else comes from requirements-dev.txt into .venv.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON3 ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
# A copy of the requirements last installed: the venv is re-installed only when they differ.
STAMP   := $(VENV)/.requirements-dev.installed
# Python trees that exist, for ruff.
PY_DIRS := $(wildcard python tests examples benches scripts)

# maturin develop installs into $VIRTUAL_ENV; PyO3's build script (clippy --features python)
# uses $PYO3_PYTHON. Both point at the venv so every build sees the same interpreter.
VENV_ENV := VIRTUAL_ENV="$(abspath $(VENV))" PYO3_PYTHON="$(abspath $(PY))"

.PHONY: help venv build-dev build-release test lint bench dropin demo clean distclean

help: ## List the targets
	@echo "ferrosocket: make TARGET"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

$(PY):
	$(PYTHON3) -m venv $(VENV)

$(STAMP): requirements-dev.txt | $(PY)
	@if cmp -s requirements-dev.txt $@; then \
		touch $@; \
	else \
		echo "installing requirements-dev.txt into $(VENV)"; \
		$(PY) -m pip install --disable-pip-version-check --progress-bar off -q -r requirements-dev.txt; \
		cp requirements-dev.txt $@; \
	fi

venv: $(STAMP) ## Create .venv and install requirements-dev.txt (again only when it changed)

build-dev: venv ## Build ferrosocket (Cargo profile `fast`) into .venv
	$(VENV_ENV) $(VENV)/bin/maturin develop --profile fast

build-release: venv ## Build ferrosocket (fat-LTO release) into .venv, for benchmarks
	$(VENV_ENV) $(VENV)/bin/maturin develop --release

test: build-dev ## All tests: cargo test (pure Rust core) then pytest
	cargo test
	@echo "$(PY) -m pytest -p anyio"; \
	rc=0; $(PY) -m pytest -p anyio || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; fi; \
	exit $$rc

lint: venv ## rustfmt, clippy (core and python feature), ruff, mypy --strict
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings
	$(VENV_ENV) cargo clippy --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)
	$(VENV)/bin/mypy --strict python/ferrosocket examples

# BENCH_ARGS go to benches/report.py: e.g. --processes 9, --check (exit 1 on a missed target), --quick.
bench: venv ## Benchmarks: cargo bench (Rust core), then ferrosocket vs Starlette on a release build
	@mkdir -p target
	cargo bench --bench core 2>&1 | tee target/cargo-bench.txt
	$(MAKE) build-release
	$(PY) benches/report.py --rust target/cargo-bench.txt $(BENCH_ARGS)

# LOAD_ARGS go to benches/load.py: e.g. --reps 5, --sizes 1000x100, --servers uvicorn, --check.
# --nice -10 (as root) raises the priority of the servers and clients it starts, against other work.
.PHONY: load
load: venv ## Load test: C connections x M echo round trips, uvicorn and granian, on a release build
	$(MAKE) build-release
	$(PY) benches/load.py --nice -10 $(LOAD_ARGS)

# Downloads the Starlette and FastAPI sdists (cached in target/dropin/) for their test files.
dropin: build-dev ## Starlette's and FastAPI's own WebSocket tests with ferrosocket.install() on
	$(PY) tests/dropin/run_upstream.py

demo: build-dev ## Run examples/demo.py: a real uvicorn server and a real client, checked
	$(PY) examples/demo.py

# Needs the redis-server binary (Debian package redis-server).
.PHONY: demo-cluster
demo-cluster: build-dev ## Redis + 2 uvicorn workers + clients: a message sent to one worker reaches both
	$(PY) examples/demo_cluster.py

# FUZZ_SECONDS per harness (default 20); FUZZ_ARGS go to tests/fuzz/run.py (e.g. --only fuzz_url).
# The proptest targets run in `cargo test`; FUZZ_CASES=N cargo test --test fuzz_core runs them longer.
FUZZ_SECONDS ?= 20
.PHONY: fuzz
fuzz: venv ## atheris harnesses (tests/fuzz/), each FUZZ_SECONDS, on a coverage-instrumented build
	$(PY) tests/fuzz/run.py --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS)

# Shipping: the wheel users install, tested as installed; the GitHub Actions workflows.
.PHONY: wheel wheel-test actionlint
wheel: venv ## Release wheel (fat LTO, manylinux2014 via zig) and sdist into dist/, auditwheel-checked
	VENV=$(VENV) scripts/build_wheel.sh

wheel-test: wheel ## Install dist/'s wheel in a fresh venv outside the tree, run the tests; build the sdist
	FERROSOCKET_WHEEL="$$(ls dist/ferrosocket-*.whl)" FERROSOCKET_SDIST="$$(ls dist/ferrosocket-*.tar.gz)" \
		$(PY) -m pytest -p no:cacheprovider -s tests/wheel

actionlint: venv ## Check .github/workflows/ with actionlint (and shellcheck for run: steps)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/actionlint -color=false

clean: ## Remove build outputs and caches (keeps .venv)
	cargo clean
	rm -rf dist .pytest_cache .hypothesis .mypy_cache .ruff_cache .benchmarks
	rm -f python/ferrosocket/_core*.so python/ferrosocket/_core*.pyd
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
