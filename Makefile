# Every target sets up what it needs: a fresh clone needs only Python 3.13 (and network access to PyPI).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY313    = $(shell infra/scripts/find-python313)
UV_VERSION := 0.13.9
TOOLS    := .tools
UV       := $(TOOLS)/uv/bin/uv
VENV     := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
BIN      := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export SAM_CLI_TELEMETRY := 0

.PHONY: help run web audit-verify test test-fast lint build bench lock clean openapi
help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(UV):
	@py="$(PY313)"; [ -n "$$py" ] || exit 1; \
	"$$py" -m pip install --quiet --disable-pip-version-check --target $(TOOLS)/uv "uv==$(UV_VERSION)"

# The stamp records that .venv matches uv.lock; it is rebuilt whenever the lock or pyproject changes.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --python "$(PY313)" --quiet
	@touch $@

# The web client (web/): npm ci when its lock changes, a build when any of its sources is newer than the last.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/.built: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build
	@touch $@

web: web/dist/.built ## build the reference web client into web/dist (Node >= 20.19 and npm)

run: $(VENV)/.synced web/dist/.built ## run the whole platform locally with demo data (PORT, AWS_PORT to override)
	PYTHONPATH=layers/shared:infra $(BIN)/python -m local_runtime

audit-verify: $(VENV)/.synced ## verify the PDL audit log's hash chains (local runtime; AUDIT_VERIFY_ARGS="--table NAME" for a stack)
	PYTHONPATH=layers/shared:infra $(BIN)/python -m ops.audit_verify $(AUDIT_VERIFY_ARGS)

openapi: $(VENV)/.synced ## regenerate openapi.json (the API description) from template.yaml and the handlers
	PYTHONPATH=layers/shared:infra $(BIN)/python -m ops.openapi

# Three workers on two cores: the end-to-end tests spend much of their time waiting on their runtimes.
test: $(VENV)/.synced web/dist/.built ## run every test (unit, integration, e2e, browser)
	$(BIN)/python -m pytest -n 3 --dist loadfile $(PYTEST_ARGS)

test-fast: $(VENV)/.synced web/dist/.built ## the tests without the national-scale feed
	$(BIN)/python -m pytest -n 3 --dist loadfile -m "not slow" $(PYTEST_ARGS)

lint: $(VENV)/.synced $(CHECKOV_VENV)/.synced ## ruff, mypy (strict on the shared layer), cfn-lint, checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/shared functions infra tests benchmarks
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --config-file .checkov.yaml --skip-download

$(CHECKOV_VENV)/.synced: infra/checkov-requirements.txt
	"$(PY313)" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/checkov-requirements.txt
	@touch $@

bench: $(VENV)/.synced ## every benchmark, every function of the template, the cost model (figures in benchmarks/results/)
	@# Sizes that keep the whole under 10 minutes on 2 cores (set any of them to override); a module run alone,
	@# PYTHONPATH=layers/shared:infra .venv/bin/python -m benchmarks.<name>, uses its own larger defaults.
	@started=$$(date +%s); \
	for part in run access cases runtime booking inbox functions cost; do \
		BENCH_RUNS=$${BENCH_RUNS:-5} BENCH_REQUESTS=$${BENCH_REQUESTS:-30} BENCH_UNITS=$${BENCH_UNITS:-1500} \
		BENCH_SECONDS=$${BENCH_SECONDS:-5} BENCH_COLD_RUNS=$${BENCH_COLD_RUNS:-5} \
		BENCH_FUNCTION_REQUESTS=$${BENCH_FUNCTION_REQUESTS:-10} \
		PYTHONPATH=layers/shared:infra $(BIN)/python -m benchmarks.$$part || exit 1; \
	done; \
	echo "make bench took $$(( $$(date +%s) - started )) s"

# SAM CLI pins an older boto3 and pydantic, so it lives in an environment of its own.
$(SAM_VENV)/.synced: infra/sam-requirements.txt
	"$(PY313)" -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/sam-requirements.txt
	@touch $@

build: $(SAM_VENV)/.synced layers/shared/requirements.txt ## sam build (offline-capable; needs the 3.13 interpreter on PATH)
	PATH="$$(dirname "$(PY313)"):$$PATH" $(SAM_VENV)/bin/sam build --template-file template.yaml
	PATH="$$(dirname "$(PY313)"):$$PATH" $(SAM_VENV)/bin/sam validate --lint --template-file template.yaml

# Re-resolve the lock and re-export the layer's requirements from it (the only place pins are chosen).
lock: $(UV)
	$(UV) lock --python "$(PY313)"
	$(UV) export --frozen --only-group runtime --no-hashes --no-header --no-annotate \
	  | grep -v '^-e' > layers/shared/requirements.txt

clean: ## remove environments and build output
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache
