# The two commands of the quick start: `make run` and `make test`. Each creates the virtual
# environment and installs the pinned dependencies on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint typecheck unit browser-deps screenshots bench evals clean constraints

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## run the service on the embedded default
	$(BIN)/incident-response serve --host $(HOST) --port $(PORT)

test: lint typecheck browser-deps unit  ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts evals
	$(BIN)/ruff format --check src tests bench scripts evals
	$(BIN)/python scripts/check_architecture.py  # runs check_publish_callers, check_slack_clients, check_http_clients too
	$(BIN)/python scripts/check_secrets.py  # no secrets in images or manifests
	$(BIN)/python scripts/check_secrets_drift.py  # seeder, secrets.template.json, chart ExternalSecret agree

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
