# The two commands of the quick start: `make run` and `make test`. Each creates the virtual
# environment and installs the pinned dependencies on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080

CHART ?= deploy/chart
# the nightly drill's target and credentials (docs/drills.md); the token and secret stay in the
# environment (INCIDENT_RESPONSE_TOKEN, INCIDENT_RESPONSE_WEBHOOK_SECRET), never on the command line
DRILL_TARGET_STAGING ?= $(DRILL_TARGET)
DRILL_ARGS ?=
SEED_ARGS ?=

.PHONY: run test lint typecheck unit browser-deps screenshots bench evals clean constraints \
	check format-check test-unit test-integration chart-lint chart-template-staging \
	chart-template-production seed-staging drill-staging

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## run the service on the embedded default
	$(BIN)/incident-response serve --host $(HOST) --port $(PORT)

test: lint format-check typecheck browser-deps unit  ## everything CI runs

check: lint typecheck format-check test-unit  ## quick local parity: no browser, server or AWS tests

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts evals
	$(BIN)/python scripts/check_architecture.py  # runs check_publish_callers, check_slack_clients, check_http_clients too
	$(BIN)/python scripts/check_secrets.py  # no secrets in images or manifests
	$(BIN)/python scripts/check_secrets_drift.py  # seeder, secrets.template.json, chart ExternalSecret agree

format-check: $(STAMP)
	$(BIN)/ruff format --check src tests bench scripts evals

typecheck: $(STAMP)
	$(BIN)/mypy src

browser-deps:  ## Debian's chromium for the browser tests (apt; needs root or sudo)
	bash .ci/install-browser

# Screenshots of every page land in the test output; `make screenshots` refreshes the ones the
# README shows (bench/screenshots/).
unit: $(STAMP)
	INCIDENT_RESPONSE_SCREENSHOTS_DIR=.test-output/screenshots \
	  $(BIN)/pytest -q -p no:cacheprovider -n auto --dist loadfile \
	  --cov=incident_response --cov-branch --cov-report=
	$(BIN)/python scripts/check_coverage.py  # 100% on the approval gate and the audit log, global floor

test-unit: $(STAMP)  ## tests/unit only: fast, no server process
	$(BIN)/pytest -q -p no:cacheprovider -n auto --dist loadfile tests/unit

test-integration: $(STAMP)  ## adapters, contracts and real `serve` processes (moto, fakes)
	$(BIN)/pytest -q -p no:cacheprovider -n auto --dist loadfile \
	  tests/integration tests/contract tests/e2e

# The chart targets run `helm` when it is installed, else the chart's own renderer
# (scripts/helm_chart.py: Helm's engine from PyPI); either way they fail saying what is missing.
define need_chart
	@test -f $(CHART)/Chart.yaml || { echo "error: no Helm chart at $(CHART) (Chart.yaml missing)" >&2; exit 2; }
endef
define helm_or_renderer
	@if command -v helm >/dev/null 2>&1; then $(1); \
	elif test -f scripts/helm_chart.py; then $(BIN)/python scripts/helm_chart.py $(2); \
	else echo "error: helm is not installed and scripts/helm_chart.py is missing: install helm (https://helm.sh/docs/intro/install/)" >&2; exit 2; fi
endef

chart-lint: $(STAMP)  ## helm lint the chart with each environment's values
	$(need_chart)
	$(call helm_or_renderer,for env in development staging production; do helm lint --strict $(CHART) -f $(CHART)/values-$$env.yaml || exit 1; done,lint)

chart-template-staging: $(STAMP)  ## render the chart with the staging values
	$(need_chart)
	$(call helm_or_renderer,helm template incident-response $(CHART) -f $(CHART)/values-staging.yaml,template staging)

chart-template-production: $(STAMP)  ## render the chart with the production values
	$(need_chart)
	$(call helm_or_renderer,helm template incident-response $(CHART) -f $(CHART)/values-production.yaml,template production)

seed-staging: $(STAMP)  ## put the staging secrets into Secrets Manager (AWS credentials from the environment)
	@$(BIN)/incident-response secrets --help >/dev/null 2>&1 || { echo "error: this build has no \`incident-response secrets seed\` command" >&2; exit 2; }
	$(BIN)/incident-response secrets seed --env staging $(SEED_ARGS)

drill-staging: $(STAMP)  ## fire a drill at staging: DRILL_TARGET_STAGING=https://... plus the token and secret in the environment
	@test -n "$(DRILL_TARGET_STAGING)" || { echo "error: set DRILL_TARGET_STAGING (or DRILL_TARGET) to the staging URL" >&2; exit 2; }
	$(BIN)/incident-response drill --target "$(DRILL_TARGET_STAGING)" $(DRILL_ARGS)

screenshots: $(STAMP) browser-deps
	$(BIN)/pytest -q -p no:cacheprovider tests/browser

bench: $(STAMP)  ## benchmarks; reports land in bench/reports/
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/assembly.py --incidents 200
	$(BIN)/python bench/assembly.py --incidents 200 --mode burst
	$(BIN)/python bench/lifecycle.py --runs 10
	$(BIN)/python bench/slack_assembly.py --fault-rate 0.2
	$(BIN)/python bench/statuspage_publish.py
	$(BIN)/python bench/postmortem_linear.py --runs 3
	$(BIN)/python bench/aws_assembly.py --incidents 30

evals: $(STAMP)  ## score the drafters (built-in, scripted, each LLM adapter via its fake)
	$(BIN)/python evals/run.py

constraints:  ## re-pin every dependency after changing pyproject.toml
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage
