# The two commands a new user needs are `make run` and `make test`; every target
# installs what it needs first (uv included), so nothing has to be set up by hand.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -eu -o pipefail -c

# uv from the PATH if there is one, else a private copy in .tools/.
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system

.PHONY: help install run demo test lint fmt typecheck bench clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

# A venv when the Python has one (Debian's needs python3-venv), else pip --target.
$(CURDIR)/.tools/bin/uv:
	( $(PYTHON) -m venv .tools \
	  && .tools/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5,<1' ) \
	|| ( rm -rf .tools \
	  && $(PYTHON) -m pip install --quiet --disable-pip-version-check \
	     --target .tools/pip 'uv>=0.5,<1' \
	  && mkdir -p .tools/bin && ln -sf ../pip/bin/uv .tools/bin/uv )

.venv/.installed: $(UV) pyproject.toml uv.lock */*/pyproject.toml deploy/local/pyproject.toml
	$(UV) sync --frozen --all-packages
	@touch $@

install: .venv/.installed ## Install the workspace (uv, then every package)

run: install ## Start the local stack, run the main job on it and keep serving
	$(UV) run --frozen pmm up

demo: install ## Start the local stack, run the main job, print its results, stop
	$(UV) run --frozen pmm demo

test: install ## Run every test against real PostgreSQL and NATS servers
	$(UV) run --frozen pytest

lint: install ## Check style and common mistakes (ruff)
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

fmt: install ## Format the code and fix what ruff can fix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

typecheck: install ## Check types (mypy, strict)
	$(UV) run --frozen mypy

bench: install ## Measure throughput and latency (figures go in the README)
	$(UV) run --frozen python -m pmm_local.bench
	@for script in shared/methodology/benchmarks/bench.py \
		services/*/benchmarks/bench.py; do \
		[ -f "$$script" ] || continue; \
		echo "== $$script"; \
		$(UV) run --frozen python "$$script"; \
	done

clean: ## Remove the virtual environments and caches (keeps the stack's data)
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
