# The two commands of the quick start: `make run` and `make test`. Each creates the virtual
# environment and installs the pinned dependencies on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint typecheck unit bench clean constraints

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## run the service on the embedded default
	$(BIN)/incident-response serve --host $(HOST) --port $(PORT)

test: lint typecheck unit  ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/python scripts/check_architecture.py

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider --cov=incident_response --cov-branch --cov-report=
	$(BIN)/coverage report --fail-under=100 --include='*/services/status_update_gate.py,*/domain/approval.py'

bench: $(STAMP)  ## benchmarks; reports land in bench/reports/
	$(BIN)/python bench/intake.py

constraints:  ## re-pin every dependency after changing pyproject.toml
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage
