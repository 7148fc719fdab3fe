# The two commands a newcomer needs: `make run` and `make test`. Both set up everything themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-faults test-cluster test-browser lint venv kafka bench bench-commands clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

kafka:
	bash infra/kafka/fetch.sh >&2

## run: venv, Kafka, topics, worker, API, a demo feed and Prometheus; prints the URLs
run: venv kafka
	$(BIN)/casestream up --demo --prometheus

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy -p casestream
	$(BIN)/lint-imports

## test: venv, Kafka, PostgreSQL (installed if missing), then lint, the suite and the fault runs
test: venv kafka lint
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=30 --ignore=tests/faults --ignore=tests/cluster
	$(MAKE) test-faults

## test-faults: worker killed 20 times in 100,000 events, broker restarted, database away 30 s,
## three workers, poison messages, a worker killed mid-stream, lost cases under SIGKILL, a
## rebuild beside the live read models (each ends equal to a clean replay)
test-faults: venv kafka
	$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/faults

## test-cluster: three KRaft brokers on this machine (replication 3, min.insync.replicas 2),
## 100,000 events while one broker is SIGKILLed and brought back; not part of `make test`
test-cluster: venv kafka
	$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/cluster

## test-browser: the web console in headless Chromium (installed if missing); screenshots
## in test-artifacts/screenshots/ (part of `make test` too)
test-browser: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

## bench: every benchmark, then one table of each figure beside its baseline in the same run
## (about an hour; `make bench BENCH_ARGS=--quick` for a few minutes); see bench/README.md
bench: venv kafka
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

## bench-commands: a command's POST to its 200 answer (p50/p99) at 20 and 100 commands/s
bench-commands: venv kafka
	$(BIN)/python bench/commands.py

clean:
	rm -rf var/test-* test-artifacts
