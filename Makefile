# ferrosocket developer tasks. `make` alone lists them.
# Needs only Rust (cargo), Python 3.11+ with pip, and the package registries:
# everything else comes from requirements-dev.txt (requirements/*.txt, by purpose) into .venv.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON3 ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
# requirements-dev.txt includes the files of requirements/ (requirements/README.md).
REQUIREMENTS := requirements-dev.txt $(sort $(wildcard requirements/*.txt))
# A copy of the requirements last installed: the venv is re-installed only when they differ.
STAMP   := $(VENV)/.requirements-dev.installed
# Installs into the venv with uv (pinned in requirements/build.txt; about 15 s for the whole
# requirements-dev.txt, where pip takes about 110): uv bootstrapped with pip, and pip doing the
# install itself when uv cannot be installed or fails. Byte-compiled as pip does: processes
# started with PYTHONDONTWRITEBYTECODE (the drop-in runs) would otherwise compile every import
# again. A shell function: arguments follow it.
PIP_INSTALL = venv_install() { \
	  { $(PY) -m pip install --disable-pip-version-check --progress-bar off -q "$$(grep -E '^uv==' requirements/build.txt)" \
	    && $(PY) -m uv pip install --python $(PY) -q --compile-bytecode "$$@"; } \
	  || { echo "uv failed: installing with pip"; $(PY) -m pip install --disable-pip-version-check --progress-bar off -q "$$@"; }; \
	}; venv_install
# Python trees that exist, for ruff.
PY_DIRS := $(wildcard python tests examples benches scripts)

# maturin develop installs into $VIRTUAL_ENV; PyO3's build script (clippy --features python)
# uses $PYO3_PYTHON. Both point at the venv so every build sees the same interpreter.
VENV_ENV := VIRTUAL_ENV="$(abspath $(VENV))" PYO3_PYTHON="$(abspath $(PY))"

.PHONY: help venv build-dev build-release test test-core test-pythons lint lint-checks format bench dropin dropin-matrix peers demo clean distclean

help: ## List the targets
	@echo "ferrosocket: make TARGET"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

$(PY):
	$(PYTHON3) -m venv $(VENV)

$(STAMP): $(REQUIREMENTS) | $(PY)
	@cat $(REQUIREMENTS) > $@.new; \
	if cmp -s $@.new $@; then \
		rm $@.new; touch $@; \
	else \
		echo "installing requirements-dev.txt into $(VENV)"; \
		$(PIP_INSTALL) -r requirements-dev.txt; \
		mv $@.new $@; \
	fi

venv: $(STAMP) ## Create .venv and install requirements-dev.txt (again only when it changed)

build-dev: venv ## Build ferrosocket (Cargo profile `fast`) into .venv
	$(VENV_ENV) $(VENV)/bin/maturin develop --profile fast

# The release build is profile-guided (scripts/pgo_profile.sh: an instrumented build trained on
# scripts/pgo_training.py) when an llvm-profdata of rustc's LLVM is found, as the wheels are;
# target/release/pgo.txt records its profile, if any (benches/report.py names it in every result).
build-release: venv ## Build ferrosocket (fat-LTO release, profile-guided as the wheels) into .venv, for benchmarks
	@set -e; flags="$$($(VENV_ENV) MATURIN=$(VENV)/bin/maturin scripts/pgo_profile.sh $(abspath $(PY)))"; \
	if [ -n "$$flags" ]; then export RUSTFLAGS="$${RUSTFLAGS:+$$RUSTFLAGS }$$flags"; fi; \
	$(VENV_ENV) $(VENV)/bin/maturin develop --release; \
	if [ -n "$$flags" ]; then scripts/pgo_check.sh python/ferrosocket/_core*.so; fi; \
	echo "$${flags#*=}" > target/release/pgo.txt

test: build-dev ## All tests: cargo test (pure Rust core) then pytest
	cargo test
	@echo "$(PY) -m pytest -p anyio"; \
	rc=0; $(PY) -m pytest -p anyio || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; fi; \
	exit $$rc

# The core suite (CORE_SUITE in tests/conftest.py) needs only requirements/tests-core.txt: it is
# what every wheel is tested with (wheels.yml) and what runs on the other CPythons.
test-core: build-dev ## The core suite only (pytest --core): datastructures, WebSocket, Starlette conformance
	$(PY) -m pytest -p anyio --core

test-pythons: venv ## The core suite on every other CPython 3.11+ found on PATH or under pyenv
	$(PY) scripts/test_other_pythons.py

format: venv ## Format in place: cargo fmt, ruff format
	cargo fmt --all
	$(VENV)/bin/ruff format $(PY_DIRS)

# The README's python blocks, extracted for the type checkers (scripts/readme_code.py).
README_CODE := target/readme_code

lint: build-dev ## rustfmt, clippy (core and python feature), ruff, mypy --strict, pyright, stubtest
	@$(MAKE) lint-checks

# make lint's checks on the build .venv already holds: .ci/run runs them beside other work, where
# a build-dev would replace the extension module under the processes running.
lint-checks: venv
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings
	$(VENV_ENV) cargo clippy --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)
	$(PY) scripts/readme_code.py README.md $(README_CODE)
	$(VENV)/bin/mypy --strict python/ferrosocket examples tests/typing
	@# The README's blocks as a user writes them: unannotated functions allowed, their bodies checked.
	$(VENV)/bin/mypy --strict --allow-untyped-defs --allow-incomplete-defs $(README_CODE)
	$(VENV)/bin/pyright --pythonpath $(abspath $(PY)) --warnings
	$(PY) -m mypy.stubtest ferrosocket._core

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

# GATEWAY_ARGS go to benches/gateway_bench.py: e.g. --rounds 30, --servers granian, --workloads json1k,handshake,
# --check (exit 1 on an error or a missed target). It prints its estimated duration first (about 20 min by default).
.PHONY: gateway gateway-quick
gateway: venv ## End-to-end gateway benchmark (uvicorn, granian; JSON, handshakes, fan-out) on a release build
	$(MAKE) build-release
	$(PY) benches/gateway_bench.py --nice -10 $(GATEWAY_ARGS)

gateway-quick: build-dev ## The gateway benchmark as a smoke run (under a minute): every app, workload and check
	$(PY) benches/gateway_bench.py --quick $(GATEWAY_ARGS)

# Downloads the Starlette and FastAPI sdists (cached in target/dropin/) for their test files.
dropin: build-dev ## Starlette's and FastAPI's own WebSocket tests with ferrosocket.install() on
	$(PY) tests/dropin/run_upstream.py

# Seven Starlette releases from 0.40.0 to 1.10.0, each with the FastAPI release that pins it,
# installed side by side in target/dropin-matrix/ (pip install --no-deps --target, cached; sdists
# in target/dropin/): each one's own WebSocket tests with install() on and off, then
# tests/dropin/diff_eras.py (the switched class against that release's own, call for call).
dropin-matrix: build-dev ## The drop-in suites on each supported Starlette era and its FastAPI
	$(PY) tests/dropin/run_matrix.py

# Starlette's whole tests/ and every FastAPI test file that mentions websockets (sdists cached in
# target/dropin/), with install() on in every process from its start, against the same run stock.
peers: build-dev ## Starlette's whole test suite and FastAPI's websocket tests: the same with install() on
	$(PY) tests/dropin/run_upstream.py --peers

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
wheel: venv ## Release wheel (fat LTO, profile-guided, manylinux2014 via zig) and sdist into dist/, auditwheel-checked
	VENV=$(VENV) scripts/build_wheel.sh

wheel-test: wheel ## Install dist/'s wheel in a fresh venv outside the tree, run the core suite; the sdist; metadata
	@# The hypothesis profile "quick" for the installed suite: `make test` ran the full one on this code.
	HYPOTHESIS_PROFILE=quick FERROSOCKET_WHEEL="$$(ls dist/ferrosocket-*.whl)" \
		FERROSOCKET_SDIST="$$(ls dist/ferrosocket-*.tar.gz)" $(PY) -m pytest -p no:cacheprovider -s tests/wheel

actionlint: venv ## Check .github/workflows/ with actionlint (and shellcheck for run: steps)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/actionlint -color=false

clean: ## Remove build outputs and caches (keeps .venv)
	cargo clean
	rm -rf dist .pytest_cache .hypothesis .mypy_cache .ruff_cache .benchmarks
	rm -f python/ferrosocket/_core*.so python/ferrosocket/_core*.pyd
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv too
	rm -rf $(VENV)
