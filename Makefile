# kontrol: the two commands of the README, and the rest.
#
# A fresh machine needs only python3 (3.11+) and make: uv itself is installed
# into .tools/ from PyPI, and uv installs everything else into .venv/ from
# the committed uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.kontrol-synced
export UV_PYTHON_DOWNLOADS := never

#: The browser test drives Debian's Chromium with Playwright (no browser download).
CHROMIUM ?= /usr/bin/chromium

DEMO_OUT ?= out/demo
DEMO_AS_OF ?= 2026-10-31

.PHONY: setup demo demo-cli airflow test-services test pytest lint typecheck bench clean

setup: $(STAMP)
	@$(VENV)/bin/python -m compileall -q kontrol dags >/dev/null

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every interpreter (each Airflow task, each test worker, each `kontrol`
# call) would otherwise compile the ~11,000 modules it imports from source whenever .pyc files
# are not written, as with PYTHONDONTWRITEBYTECODE=1 (set on this project's machines): importing
# Great Expectations, scikit-learn and Polars took 7.0 CPU-s that way and 3.1 CPU-s from bytecode.
$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

## demo: install everything and run the kontrol_monthly Airflow DAG on the bundled
## synthetic delivery (embedded SQLite metadata DB, no server to start)
demo: setup
	DEMO_OUT=$(DEMO_OUT) DEMO_AS_OF=$(DEMO_AS_OF) dags/run_demo.sh

## demo-cli: the same run as one process, without Airflow
demo-cli: setup
	$(VENV)/bin/kontrol run --extracts fixtures/delivery --out $(DEMO_OUT)-cli \
		--as-of $(DEMO_AS_OF) --demo-key
	$(VENV)/bin/kontrol cases --out $(DEMO_OUT)-cli --top 3

## airflow: a local Airflow (scheduler, dag-processor, triggerer, API server on 127.0.0.1:8080,
## LocalExecutor) with the kontrol DAGs; SQLite in .airflow/ unless AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
## names PostgreSQL. See README "Airflow, deployed" for the Variables and the case key.
airflow: setup
	scripts/airflow.sh start

## test-services: the DAGs under a real scheduler (PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379),
## one module at a time, after the rest of the suite
test-services: setup
	$(VENV)/bin/python -m pytest -m services tests/airflow

## test: install everything and run the whole test suite (the real-scheduler tests too), then ruff and mypy
test: setup pytest test-services lint typecheck

#: everything but the real-scheduler tests (marker services, deselected in pyproject), on both cores
pytest: setup $(CHROMIUM)
	$(VENV)/bin/python -m pytest -n 2

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "the browser test needs Chromium at $(CHROMIUM)" >&2; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

## bench: ARGS="--persons 200000 6000000" for the national run (about 15 min and 2 GB of disk under /tmp/kontrol-bench)
bench: setup
	$(VENV)/bin/python benchmarks/run_benchmarks.py $(ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) out
