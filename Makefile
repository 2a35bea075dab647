# plan-tracker — the README's commands. Every target sets itself up from nothing when needed:
# a virtual environment from requirements.lock (stamped, so a second run installs nothing) and a
# parsed dbt manifest (re-parsed only when the dbt project changes).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
DBT_MANIFEST := dbt/target/manifest.json
DBT_SOURCES := $(shell find dbt -path dbt/target -prune -o -path dbt/logs -prune -o -path dbt/dbt_packages -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.md' \) -print)

export PLAN_TRACKER_RAW_DIR ?= raw
export PLAN_TRACKER_WAREHOUSE_DIR ?= warehouse
export PLAN_TRACKER_MAX_XLSX_BYTES ?= 209715200
export DBT_PROFILES_DIR := $(CURDIR)/dbt
export DAGSTER_HOME ?= $(abspath $(PLAN_TRACKER_WAREHOUSE_DIR))/dagster_home

.PHONY: help setup run test typecheck sqllint lint format ui report templates explain bench stress differential docs clean

help:  ## list the commands
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	# Byte-code is compiled at install time: with PYTHONDONTWRITEBYTECODE set (as in many CI and
	# container images) every run would otherwise recompile dagster, dbt and GX (~5 s a run).
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e .
	touch $@

$(DBT_MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt && ../$(BIN)/dbt parse --quiet
	touch $@

setup: $(STAMP) $(DBT_MANIFEST)  ## create the environment and prepare dbt (run by every other target)

run: setup  ## run the whole pipeline on $PLAN_TRACKER_RAW_DIR and publish the warehouse
	$(BIN)/plan-tracker run

test: setup  ## every test and linter
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	# mypy and sqlfluff each use one core: side by side (without a mypy cache, as on a clean clone:
	# 50 s, against 60 + 26 s one after the other), each one's output printed whole when it ends (-O).
	$(MAKE) --no-print-directory -j 2 -O typecheck sqllint
	# Two workers, each given the next test as it finishes (--maxschedchunk 1: by default a worker
	# is handed chunks of tests ahead, and one was left running several long ones alone, 7 minutes
	# of a 17:42 run; tests/conftest.py orders the long ones first). No xdist_group marks: under
	# pytest 9.2 pytest-xdist's loadgroup groups nothing (pytest-xdist#1386), and if it did, the
	# tests that run the pipeline (~540 s on a slow day) would all go to one worker.
	$(BIN)/pytest -n 2 --maxschedchunk 1

typecheck: setup
	$(BIN)/mypy

sqllint: setup
	# sqlfluff compiles the models through dbt, which opens the profile's database: in memory here,
	# with artifacts of its own (dbt/target's parse state seeds each new warehouse's first parse).
	cd dbt && PLAN_TRACKER_WORK_DB=:memory: DBT_TARGET_PATH=target/sqlfluff ../$(BIN)/sqlfluff lint models macros tests

lint: test

format: setup  ## apply ruff and sqlfluff fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd dbt && PLAN_TRACKER_WORK_DB=:memory: DBT_TARGET_PATH=target/sqlfluff ../$(BIN)/sqlfluff fix models macros tests

ui: setup  ## Dagster UI and daemon on 127.0.0.1:3000 (schedules and sensors live)
	$(BIN)/plan-tracker instance >/dev/null
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev --host 127.0.0.1 --port 3000 -m dagster_project.definitions

report: setup  ## the offline scorecard page and Excel workbook under $PLAN_TRACKER_WAREHOUSE_DIR/report/
	$(BIN)/plan-tracker report

templates: setup  ## for each geography, a CSV of the reports it owes, under $PLAN_TRACKER_WAREHOUSE_DIR/templates/
	$(BIN)/plan-tracker templates

explain: setup  ## how a target's status was reached: make explain TARGET=wm_t_new_platforms_2028 (or a geography: TARGET=鄂州)
	@test -n "$(TARGET)" || { echo "usage: make explain TARGET=<target_id or geography>"; exit 2; }
	$(BIN)/plan-tracker explain "$(TARGET)"

docs: setup  ## dbt docs (one static page, viewable offline) under $PLAN_TRACKER_WAREHOUSE_DIR/docs/
	test -f "$(abspath $(PLAN_TRACKER_WAREHOUSE_DIR))/work/plan_tracker.duckdb" || $(MAKE) run
	cd dbt && PLAN_TRACKER_WORK_DB="$(abspath $(PLAN_TRACKER_WAREHOUSE_DIR))/work/plan_tracker.duckdb" \
	  ../$(BIN)/dbt docs generate --static --quiet --target-path "$(abspath $(PLAN_TRACKER_WAREHOUSE_DIR))/docs"
	@echo "dbt docs: $(abspath $(PLAN_TRACKER_WAREHOUSE_DIR))/docs/static_index.html"

bench: setup  ## performance figures, written to $PLAN_TRACKER_WAREHOUSE_DIR/bench/ (results.json, daily.json, steps.json)
	$(BIN)/python scripts/bench.py

stress: setup  ## long reliability run: many files, random corruption, repeated kills
	$(BIN)/python scripts/stress.py

differential: setup  ## incremental builds checked against full refreshes on random histories
	$(BIN)/python scripts/differential.py

clean:  ## remove the environment, dbt artifacts and the default warehouse
	rm -rf $(VENV) dbt/target dbt/logs dbt/dbt_packages warehouse
