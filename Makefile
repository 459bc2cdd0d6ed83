# BYO-IP Ops. The README's commands are targets here:
#   make run    the local sandbox drill (no AWS account, no Docker)
#   make test   every test
SHELL := /bin/bash
PY    := .venv/bin/python
VENV  := .venv/.installed
NODE  := node_modules/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
CDK   := npx --no-install cdk --no-notices
STAGE ?= prod

.PHONY: install lock synth synth-all stateful-snapshot test soak mutation alarm-tests lint run sandbox-up gameday gameday-fleet diff deploy bench clean

install: $(VENV) $(NODE)

## .venv: every package from requirements.lock, each checked against its hashes (pip and setuptools
## too), wheels only; then this project itself, editable, with nothing more resolved or fetched
$(VENV): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --require-hashes --only-binary=:all: -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

## lock: regenerate requirements.lock (pyproject.toml with [dev] plus requirements-bootstrap.in, for
## CPython 3.11 on linux x86_64; uv keeps the versions the lock already has unless pyproject.toml pins
## another) and lambdas/requirements.lock (the Lambda bundle's closure, for its runtime and platform,
## held to requirements.lock's versions). uv is pinned and lives in a temporary venv.
UV_VERSION    := 0.13.8
LAMBDA_TARGET := --python-version 3.14 --python-platform aarch64-manylinux2014
lock:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	python3 -m venv "$$tmp/venv" && "$$tmp/venv/bin/pip" install -q uv==$(UV_VERSION) && \
	"$$tmp/venv/bin/uv" pip compile -q pyproject.toml requirements-bootstrap.in --extra dev --extra sandbox \
	  --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 -o requirements.lock && \
	"$$tmp/venv/bin/uv" pip compile -q lambdas/requirements.txt -c requirements.lock \
	  --generate-hashes $(LAMBDA_TARGET) -o lambdas/requirements.lock

$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## synth: offline, no AWS credentials; writes cdk.out/<StackName>.template.json and renders the
## stage's runbook next to it (cdk.out/runbooks/<stage>/runbook.md; region from AWS_REGION, default
## us-east-1; ARNs name the account when AWS_ACCOUNT_ID is set)
synth: install
	$(CDK) synth --quiet -c stage=$(STAGE)
	.venv/bin/byoip runbook render --stage $(STAGE) --region $${AWS_REGION:-us-east-1} \
	  $${AWS_ACCOUNT_ID:+--account $$AWS_ACCOUNT_ID} --out cdk.out/runbooks

## synth-all: the prod and staging templates side by side in cdk.out/
synth-all: install
	$(MAKE) synth STAGE=prod
	$(MAKE) synth STAGE=staging

## stateful-snapshot: rewrite tests/infra/stateful_snapshot.json (logical ids and identity properties
## of the stateful resources, prod and staging) after a DELIBERATE change; the tests never rewrite it
stateful-snapshot: install
	$(PY) -m tests.infra.stateful_snapshot

## test: every test; then the handler, alarm and unit tests again with the process clock moved a
## year ahead to 5 s before a UTC midnight, in a UTC+13:45 time zone (nothing may depend on the date);
## then the sandbox tests again while a busy loop competes on every core (nothing may depend on how
## fast or idle the machine is: tests/cpu_hog.py), less the quiet failure modes' game days: fourteen
## runs of two to four minutes each, they run once, in the first pass, on the two workers that
## already hold both cores
MOVED_NOW = $(shell date -u -d '+1 year' +%Y-%m-%dT23:59:55Z)
test: install
	$(PY) -m pytest -n 2 -q
	BYOIP_TEST_NOW=$(MOVED_NOW) TZ=Pacific/Chatham $(PY) -m pytest -n 2 -q -p no:cacheprovider \
	  tests/lambdas tests/alarms tests/unit
	$(PY) -m tests.cpu_hog -- $(PY) -m pytest -n 2 -q -p no:cacheprovider tests/sandbox \
	  --ignore=tests/sandbox/test_gameday_quiet.py

## soak: the job-lifecycle simulation (tests/simulation) for SOAK_MINUTES, batch after batch from
## random seeds (SOAK_SEED fixes the first); prints schedules, steps, faults and violations found,
## and for a violating batch its shrunk schedule and the command that replays it
SOAK_MINUTES ?= 30
SOAK_SEED    ?=
soak: install
	nice $(PY) -m tests.simulation.soak --minutes $(SOAK_MINUTES) $(if $(SOAK_SEED),--seed $(SOAK_SEED))

## mutation: mutmut over lambdas/common against tests/lambdas (not part of `make test`: hours for
## the whole package on one core), then the score per module and overall, less the survivors judged equivalent
## in tests/lambdas/mutation_equivalents.toml (entries matching no mutant, or only killed ones, are listed).
## Fails, one line per module, when a module measured in full scores below tests/lambdas/mutation_baseline.toml;
## RECORD=1 writes the fully measured modules' scores there instead (a deliberate change, like stateful-snapshot).
## One worker, niced: the machine is shared. MUTANTS="lambdas.common.dispatch.*" narrows the run (the score
## still reads every module's results; modules left unchecked are not compared).
MUTANTS ?=
RECORD  ?=
mutation: install
	rm -rf mutants
	set -o pipefail; time nice -n 10 .venv/bin/mutmut run --max-children 1 $(MUTANTS) | tr '\r' '\n' | tail -n 3
	$(PY) -m tests.lambdas.mutation_score --survivors $(if $(RECORD),--record-baseline)

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

run: install
	$(PY) -m sandbox.drill

sandbox-up: install
	.venv/bin/byoip sandbox up

## gameday: one runbook drill, e.g. make gameday SCENARIO=backlog ALERT_MODE=all
SCENARIO ?= poison-pill
gameday: install
	.venv/bin/byoip gameday $(SCENARIO) --alert-mode $(or $(ALERT_MODE),composite)

## gameday-fleet: the fleet game day, 1,000 agents dropped at once (docs/sandbox-performance.md)
gameday-fleet: install
	$(PY) -m sandbox.gameday.fleet_day --agents $(or $(AGENTS),1000) --speed $(or $(SPEED),3)

## alarm-tests: the promtool-style alarm test files against the synthesized template
alarm-tests: install
	.venv/bin/byoip alarms test

diff: install
	$(CDK) diff -c stage=$(STAGE)

## deploy: prepare a change set, refuse it when it replaces or deletes a stateful resource
## (byoip deploy-check; ALLOW_REPLACE="LogicalId ..." names the intended ones), then execute exactly
## that change set from the same cloud assembly (no second synth). An empty change set deploys nothing.
## The change set runs inside a maintenance window (pages held): opened just before, closed by a
## trap when the shell exits, whether the deploy succeeded, failed or was interrupted.
CHANGE_SET    := byoip-deploy
ALLOW_REPLACE ?=
BYOIP         := .venv/bin/byoip
deploy: install
	$(CDK) deploy -c stage=$(STAGE) --method=prepare-change-set --change-set-name $(CHANGE_SET) --force
	$(BYOIP) deploy-check --change-set $(CHANGE_SET) --stage $(STAGE) \
	  $(foreach id,$(ALLOW_REPLACE),--allow-replace $(id)); rc=$$?; \
	if [ $$rc -eq 3 ]; then exit 0; fi; [ $$rc -eq 0 ] || exit $$rc; \
	$(BYOIP) maintenance start --stage $(STAGE) --reason "make deploy $(CHANGE_SET)" --missing-ok || exit $$?; \
	trap '$(BYOIP) maintenance stop --stage $(STAGE) --missing-ok' EXIT; trap 'exit 130' INT TERM; \
	$(CDK) deploy --app cdk.out --method=execute-change-set --change-set-name $(CHANGE_SET)

## bench: the six benchmarks below (figures printed, nothing asserted; docs/cli.md says what each measures);
## sandbox_bench.py times the whole game-day suite (every scenario, both alert modes) and the jobs/s at
## 60x with 10 and 1,000 agents. benchmarks/cost_model.py is dispatcher_calls.py's price table,
## benchmarks/gameday_speed.py (one speed, one mode or both) is run by hand
bench: install
	$(PY) benchmarks/dispatcher_calls.py
	$(PY) benchmarks/evaluator_bench.py
	$(PY) benchmarks/sandbox_bench.py
	$(PY) benchmarks/moto_calls.py
	$(PY) benchmarks/capacity.py
	$(PY) benchmarks/watch_reads.py

clean:
	rm -rf cdk.out .pytest_cache .sandbox reports mutants
