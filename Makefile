# One command per habit. Everything runs from the project's own virtualenv; `make setup` builds it on a fresh machine
# (Python packages from PyPI, Apache Kafka's jars from Maven Central) and is a dependency of every other target.
# bash runs the recipes: on Ctrl-C it waits for `lis dev` to stop its stack and exit 130, and only dies of the
# signal itself when its child did (dash dies at once, and make then prints "*** [dev] Interrupt").
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Where platformdirs-using libraries keep runtime files; set, so they do not warn that it is not.
export XDG_RUNTIME_DIR ?= /tmp/runtime-$(shell id -u)

.PHONY: setup dev test lint typecheck coverage-domain coverage bench chaos-soak mutation k6 clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,test,hsm]'
	touch $@

setup: $(VENV)/.installed
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(BIN)/python -c "from app.devstack.kafka import kafka_libs; print('kafka jars:', kafka_libs())"
	$(BIN)/python -c "from app.devstack.prometheus import prometheus_bin; print('promtool:', prometheus_bin())"
	$(BIN)/python -c "from app.devstack.prometheus import alertmanager_bin; print('amtool:', alertmanager_bin())"
	$(BIN)/python -c "from app.devstack.node_tools import redocly_bin; print('redocly:', redocly_bin())"
	$(BIN)/python -c "from app.devstack.browser import chromium_bin; print('chromium:', chromium_bin())"
	$(BIN)/python -c "from app.devstack.softhsm import softhsm_library; print('softhsm:', softhsm_library())"
	$(BIN)/python -c "from app.devstack.scanners import gitleaks_bin; print('gitleaks:', gitleaks_bin())"

dev: setup  ## the service on its embedded default, fed a simulated hotel day (Ctrl-C stops it cleanly: exit 130 is no error)
	@$(BIN)/lis dev || [ $$? -eq 130 ]

test: setup  ## every test: unit, agents, contract, integration, e2e (starts Kafka and PostgreSQL itself); JUnit XML
## in .var/reports/junit.xml, the evidence `lis readiness` reads
	$(BIN)/pytest --junitxml=.var/reports/junit.xml

lint: setup  ## ruff, the import floors of docs/ARCHITECTURE.md (import-linter contracts), Redocly's OpenAPI lint,
## bandit and gitleaks over the repository and its history (docs/security/SCANS.md)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r app adapters agents tables -c pyproject.toml
	$$($(BIN)/python -m app.devstack.scanners) git --redact --no-banner --config .gitleaks.toml .
	REDOCLY_TELEMETRY=off $$($(BIN)/python -m app.devstack.node_tools) lint --format=summary docs/openapi.yaml docs/openapi-ops.yaml

typecheck: setup
	$(BIN)/mypy

coverage-domain: setup  ## branch coverage of app/domain from the I/O-free tests, held at >= 95 % (in CI)
	rm -rf .var/coverage && mkdir -p .var/coverage
	$(BIN)/coverage run --source=app/domain -m pytest -q -p no:cacheprovider tests/unit tests/agents
	$(BIN)/coverage combine -q
	mkdir -p .var/reports && $(BIN)/coverage json -q -o .var/reports/coverage-domain.json
	$(BIN)/coverage report --fail-under=95

coverage: setup  ## the whole suite under coverage, subprocesses included; HTML in .var/coverage/html (~35 min)
	rm -rf .var/coverage && mkdir -p .var/coverage
	echo "import coverage; coverage.process_startup()" > $$($(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/lis-coverage.pth
	COVERAGE_PROCESS_START=$(CURDIR)/pyproject.toml $(BIN)/coverage run -m pytest; status=$$?; \
	rm -f $$($(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/lis-coverage.pth; \
	$(BIN)/coverage combine -q && $(BIN)/coverage html -q && $(BIN)/coverage report | tail -1; \
	mkdir -p .var/reports && $(BIN)/coverage json -q -o .var/reports/coverage.json; exit $$status

bench: setup  ## benchmarks with stored baselines: fail on a >10 % regression (not part of `make test`)
	$(BIN)/python tests/benchmarks/audit_bench.py
	$(BIN)/python -m tests.benchmarks.ingress_bench
	$(BIN)/python -m tests.benchmarks.saga_bench

chaos-soak: setup  ## the chaos run RUNS times (default 20), one seed each; dated evidence in docs/evidence/chaos-soak/
	$(BIN)/python -m tests.chaos.soak --runs $(or $(RUNS),20)

MUTATION_VENV := .var/mutation-venv
mutation: setup  ## mutmut over app/domain and the saga executor (its own venv); report + triage in docs/evidence/mutation/
	test -x $(MUTATION_VENV)/bin/mutmut || { $(PYTHON) -m venv $(MUTATION_VENV) && \
	  $(MUTATION_VENV)/bin/pip install --quiet -e '.[dev,test,hsm]' && $(MUTATION_VENV)/bin/pip install --quiet mutmut==3.8.1; }
	$(MUTATION_VENV)/bin/python -m app.devstack.mutation

k6:  ## build the k6 load generator from the Go module proxy (the ingress bench falls back to Python without it)
	go install go.k6.io/k6@v1.8.1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
