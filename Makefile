# jit.karpenter — everything runs from here. `make demo` and `make test` each do their own setup.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
SANDBOX := $(BIN)/python -m sandbox
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PYTHONPATH := $(CURDIR)

.PHONY: help deps venv system-deps link sandbox sandbox-down sandbox-status sandbox-build demo test \
        format lint unit test-sandbox test-emulator test-auth integration molecule molecule-profiles check \
        e2e e2e-shared e2e-a e2e-b clean

help:  ## this list (made from the comments after each target); molecule-<scenario> for each scenario listed above its rule
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z0-9_-]+):.*## /\1\t/' \
	  | awk -F'\t' '{printf "make %-26s %s\n", $$1, $$2}'

deps: venv system-deps link  ## the virtualenv, Debian's docker-registry, the collection link

venv: $(STAMP)
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# The OCI registry (CNCF distribution) from Debian's packages.
system-deps:
	@command -v docker-registry >/dev/null || { \
	  echo "installing docker-registry (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; }
	@command -v go >/dev/null || { echo "error: Go is not installed; the sandbox builds Kubernetes from Go modules" >&2; exit 2; }

# Make the repo importable as ansible_collections.jit.karpenter.
link:
	@mkdir -p $(COLLECTIONS)/ansible_collections/jit
	@ln -sfn ../../../.. $(COLLECTIONS)/ansible_collections/jit/karpenter

sandbox-build: deps  ## build the sandbox's binaries from their Go modules (cached in ~/.cache/jit-karpenter)
	$(SANDBOX) build

# PROFILE=eksctl|terraform|karpenter-guide: the cluster the sandbox starts from (a new sandbox only;
# default eksctl, the walkthrough's cluster as eksctl leaves it).
# AUTH_MODE=CONFIG_MAP|API_AND_CONFIG_MAP|API: the cluster's authentication mode (a new sandbox only;
# default: the profile's).
# KARPENTER_VERSION=0.16.x: the legacy profile (vars.yml installs Karpenter as the walkthrough did).
# EXTRA_KARPENTER_VERSIONS="1.9.3": also serve these 1.x releases (charts and controller), built from
# sandbox/go/karpenter-<minor>/ only when asked for (a new sandbox only).
sandbox: deps  ## start (or reuse) the sandbox; PROFILE=eksctl|terraform|karpenter-guide, AUTH_MODE=..., KARPENTER_VERSION=0.16.x
	$(SANDBOX) up $(if $(PROFILE),--profile $(PROFILE)) $(if $(AUTH_MODE),--authentication-mode $(AUTH_MODE)) $(if $(KARPENTER_VERSION),--karpenter-version $(KARPENTER_VERSION)) $(foreach v,$(EXTRA_KARPENTER_VERSIONS),--extra-karpenter-version $(v))

sandbox-status:  ## each sandbox component and its state
	@$(SANDBOX) status

sandbox-down:  ## stop every sandbox process and remove its state
	@$(SANDBOX) down

# karpenter.yml with its canary pod (the sandbox runs the real Karpenter controller for the chart's pods), then inflate
# scaled 0 -> DEMO_REPLICAS -> 0 with a timeline of NodeClaims, instances, Nodes and pods.
DEMO_REPLICAS ?= 5
demo: sandbox  ## karpenter.yml on the sandbox with the canary, then inflate 0 -> DEMO_REPLICAS -> 0 with a timeline
	set -a; . .sandbox/env; set +a; \
	$(BIN)/ansible-playbook playbooks/karpenter.yml -e @.sandbox/vars.yml -e karpenter_verify_jit=true && \
	$(BIN)/ansible-playbook playbooks/inflate.yml -e @.sandbox/vars.yml -e inflate_replicas=0 && \
	$(BIN)/python -m sandbox.show && \
	$(BIN)/python -m sandbox.timeline --replicas $(DEMO_REPLICAS)

# The Python that ruff checks and formats.
PY_SOURCES := plugins sandbox tests

format: deps  ## format the Python code with ruff format (config in ruff.toml); make lint checks it
	$(BIN)/ruff format $(PY_SOURCES)

lint: deps  ## ruff (checks and format), yamllint, ansible-lint (production profile) over the whole collection
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --offline --profile production .

unit: deps  ## unit tests (tests/unit, sandbox/tests/unit)
	$(BIN)/pytest -q tests/unit sandbox/tests/unit

test-emulator: deps  ## the AWS emulator's tests, pinned divergences included
	$(BIN)/pytest -q sandbox/tests/emulator

test-sandbox: sandbox  ## the sandbox's tests on the shared sandbox
	set -a; . .sandbox/env; set +a; $(BIN)/pytest -q sandbox/tests/live

integration: sandbox  ## integration targets against the shared sandbox
	set -a; . .sandbox/env; set +a; tests/integration/run.sh

# One sandbox per authentication mode (ports 29200, 29300, 29400), one at a time; about 5 minutes.
test-auth: deps  ## one sandbox per authentication mode (ports 29200-29499)
	$(BIN)/pytest -q tests/auth

molecule: deps  ## molecule scenario default: the playbooks end to end (ports 28400-28499)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test -s default

# molecule-<scenario>: one scenario on a sandbox of its own, at its own ports:
#   jit              just-in-time nodes with the real controller, eksctl profile (29100-29199)
#   legacy           the walkthrough exactly, Karpenter 0.16, then its teardown (29000-29099)
#   terraform        jit's converge and verify on the terraform profile (29500-29599)
#   karpenter-guide  the same on the karpenter-guide profile (29600-29699)
#   teardown         teardown.yml on the real controller; install again; controller killed first (29700-29799)
#   adopt            Karpenter installed as its getting-started guide does, taken over (29900-29999)
#   upgrade          Karpenter 1.9.3 with just-in-time nodes, upgraded to the default version, both controllers
#                    real; re-run; nodes kept (30000-30099)
#   adopt-eksctl     Karpenter installed by eksctl's karpenter: block, with a node, taken over (30100-30199)
#   adopt-terraform  Karpenter installed by terraform-aws-eks v21's karpenter module, with a node, taken over (30200-30299)
#   migrate          the walkthrough's 0.16 with nodes and a workload under a PodDisruptionBudget, migrated to the
#                    default 1.x (playbooks/migrate.yml); re-run; nothing of 0.16 left (30300-30399)
#   fleet            three clusters in two regions behind one AWS emulator: the eks_clusters inventory finds them,
#                    one karpenter.yml run (forks 3, EKS tokens) converges all, a re-run changes nothing, one
#                    cluster with bad host vars fails alone (30400-30699)
MOLECULE_SCENARIOS := jit legacy terraform karpenter-guide teardown adopt upgrade adopt-eksctl adopt-terraform migrate fleet
$(addprefix molecule-,$(MOLECULE_SCENARIOS)): molecule-%: deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test -s $*

molecule-profiles: deps  ## molecule terraform and karpenter-guide, side by side
	$(MAKE) -j2 --output-sync=target molecule-terraform molecule-karpenter-guide

# make check = the fast tier: lint and the unit tests side by side (ansible-lint is the longest part), with no
# sandbox and no emulator; under 2 minutes warm on 2 cores.
check: deps  ## the fast tier: lint and unit tests side by side, no sandbox
	$(MAKE) -j2 --output-sync=target --no-print-directory lint unit

# make test = the fast tier, the emulator's tests, then three lanes side by side, each a sandbox (or a series of
# them) of its own ports: the shared sandbox (26400) with the tests that only read or verify against it, and two
# lanes of molecule scenarios and the authentication tests. On 2 cores the lanes overlap each other's waits.

E2E_SHARED := test-sandbox integration ecosystem test-awx test-versions molecule-fleet
E2E_LANE_A := molecule molecule-jit molecule-legacy molecule-adopt-eksctl molecule-adopt test-auth
E2E_LANE_B := molecule-migrate molecule-terraform molecule-karpenter-guide molecule-teardown molecule-upgrade molecule-adopt-terraform sanity units
# Each lane runs its targets one after another and ends with the seconds each took (the lanes run side by side).
LANE_RUN = for t in $(1); do start=$$(date +%s); $(MAKE) --no-print-directory $$t || exit 1; \
	  echo "$$t $$(( $$(date +%s) - start )) s" >> $(BUILD)/lane-$(2).times; done; \
	  echo "lane $(2):"; cat $(BUILD)/lane-$(2).times
e2e-shared: deps
	@mkdir -p $(BUILD); rm -f $(BUILD)/lane-shared.times; $(call LANE_RUN,$(E2E_SHARED),shared)
e2e-a: deps
	@mkdir -p $(BUILD); rm -f $(BUILD)/lane-a.times; $(call LANE_RUN,$(E2E_LANE_A),a)
e2e-b: deps
	@mkdir -p $(BUILD); rm -f $(BUILD)/lane-b.times; $(call LANE_RUN,$(E2E_LANE_B),b)

e2e: deps ecosystem-deps  ## every end-to-end test, in three lanes side by side (tools installed first)
	$(MAKE) -j3 --output-sync=target e2e-shared e2e-a e2e-b

test: check  ## everything CI runs: check, the emulator's tests, then e2e
	$(MAKE) test-emulator
	$(MAKE) e2e

clean: sandbox-down  ## stop the sandbox and remove build output
	rm -rf .build tests/output

# --- Ecosystem: build/install, docs, changelog, sanity, AWX, supported versions -----------------
ECO_STAMP := $(VENV)/.installed-eco-$(shell cat requirements.txt requirements-dev.txt requirements-ecosystem.txt | sha256sum | cut -c1-12)
DIST := .build/dist

.PHONY: ecosystem-deps build ecosystem

ecosystem-deps: venv link $(ECO_STAMP)
$(ECO_STAMP): requirements.txt requirements-dev.txt requirements-ecosystem.txt
	$(BIN)/pip install -q -r requirements-ecosystem.txt
	touch $@

# The collection tarball, as published.
build: ecosystem-deps  ## the collection tarball in .build/dist
	mkdir -p $(DIST)
	$(BIN)/ansible-galaxy collection build --force --output-path $(DIST) .

# Build, install into a fresh path and run from there; docs render; an AWX-style ansible-runner job.
ecosystem: ecosystem-deps sandbox  ## build, install and run the tarball; galaxy-importer; ansible-doc; docs and changelog lint
	$(BIN)/pytest -q tests/ecosystem

# --- Benchmarks: fresh sandboxes of their own (state under .build/bench), one table ------------
.PHONY: bench

bench: deps  ## benchmarks/RESULTS.md: converge, no-op, API calls, aws-auth and node pool scaling
	$(BIN)/python -m benchmarks.collection --out benchmarks/RESULTS.md

# Scale-up latency with the real Karpenter controller: inflate 0 -> 1, 10, 50 until all pods run.
.PHONY: bench-emulator
bench-emulator: deps  ## benchmarks/EMULATOR.md: the AWS emulator's catalogue cache against moto alone (server CPU)
	$(BIN)/python benchmarks/emulator.py --out benchmarks/EMULATOR.md

.PHONY: bench-scaleup
bench-scaleup: deps  ## benchmarks/SCALEUP.md: scale-up latency with the real controller
	$(BIN)/python -m benchmarks.scaleup --out benchmarks/SCALEUP.md

# A fleet: karpenter.yml over the eks_clusters inventory on 1, 3 and 6 sandbox clusters (one AWS emulator), no-op runs:
# wall time and CPU seconds per cluster of the whole ansible-playbook process tree, against the goal (4 CPU s).
.PHONY: bench-fleet
bench-fleet: deps  ## benchmarks/FLEET.md: 1, 3 and 6 clusters in one run, no-op wall time and CPU s per cluster
	$(BIN)/python -m benchmarks.fleet --out benchmarks/FLEET.md

# Time to just-in-time compute: karpenter.yml's start to the canary pod Running, beside converge alone.
.PHONY: bench-jit
bench-jit: deps
	$(BIN)/python -m benchmarks.time_to_jit --out benchmarks/TIME_TO_JIT.md

# An upgrade from the oldest Karpenter the sandbox serves to the default version, beside a fresh install of the default.
.PHONY: bench-upgrade
bench-upgrade: deps  ## benchmarks/UPGRADE.md: upgrade oldest -> default beside a fresh install (time, CPU, API calls)
	$(BIN)/python -m benchmarks.upgrade --out benchmarks/UPGRADE.md

# The migration from Karpenter 0.16 to the default 1.x, timed for 1 and 3 old nodes: the time per old node.
.PHONY: bench-migrate
bench-migrate: deps  ## benchmarks/MIGRATE.md: migration 0.16 -> 1.x, time per old node (ports 30300-30399)
	$(BIN)/python -m benchmarks.migrate --out benchmarks/MIGRATE.md

# HTML docs in .build/docs/html (antsibull-docs lint, then antsibull-docs + Sphinx; README as the guide).
.PHONY: docs
docs: ecosystem-deps  ## HTML docs in .build/docs/html
	PATH="$(CURDIR)/$(BIN):$$PATH" docs/sphinx/build.sh $(CURDIR)/.build/docs

# Changelog: fragments lint, CHANGELOG.rst matches changelogs/changelog.yaml.
.PHONY: changelog
changelog: ecosystem-deps  ## lint the changelog fragments
	$(BIN)/pytest -q tests/ecosystem/test_changelog.py

# ansible-test on the built collection at .build/ansible-test/ansible_collections/jit/karpenter,
# --local on .venv-sanity (ansible-test's own pinned sanity requirements, from PyPI).
SANITY_VENV := .venv-sanity
SANITY_STAMP := $(SANITY_VENV)/.installed-$(shell cat requirements-sanity.txt | sha256sum | cut -c1-12)
.PHONY: sanity units

$(SANITY_STAMP): requirements-sanity.txt
	test -x $(SANITY_VENV)/bin/python || $(PYTHON) -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/pip install -q --upgrade pip
	$(SANITY_VENV)/bin/pip install -q -r requirements-sanity.txt
	touch $@

sanity: $(SANITY_STAMP)  ## ansible-test sanity on the built collection
	VENV=$(CURDIR)/$(SANITY_VENV) tests/ecosystem/ansible-test.sh sanity

units: $(SANITY_STAMP)  ## ansible-test units on the built collection
	VENV=$(CURDIR)/$(SANITY_VENV) tests/ecosystem/ansible-test.sh units tests/unit/plugins/

# --- AWX: the execution environment's build context and an ansible-runner job on the sandbox -----
.PHONY: test-awx
test-awx: ecosystem-deps sandbox  ## the execution environment's build context and an ansible-runner job on the sandbox
	$(BIN)/pytest -q tests/ecosystem/test_awx_execution_environment.py tests/ecosystem/test_awx_runner_job.py

# --- Supported versions: the oldest and the newest stack, each in a virtualenv of its own ---------
# .venv-min: ansible-core 2.17 on Python 3.11, minimum boto3/botocore/kubernetes, minimum collections
# (taken from the ansible release wheels that bundle them). .venv-newest: the newest ansible on
# Python 3.13; skipped, saying so, when no Python 3.13 is found (set PYTHON_NEWEST to point at one).
python_for = $(shell for c in python$(1) "$$(pyenv root 2>/dev/null)"/versions/$(1).*/bin/python$(1); do \
  "$$c" -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "$(1)"; print(sys.executable)' 2>/dev/null && break; done)
PYTHON_MIN ?= $(call python_for,3.11)
PYTHON_NEWEST ?= $(call python_for,3.13)
MIN_VENV := .venv-min
NEWEST_VENV := .venv-newest
MIN_STAMP := $(MIN_VENV)/.installed-$(shell cat tests/versions/requirements-min.txt tests/versions/collections-min.yml | sha256sum | cut -c1-12)
NEWEST_STAMP := $(NEWEST_VENV)/.installed-$(shell cat tests/versions/requirements-newest.txt | sha256sum | cut -c1-12)
.PHONY: test-versions versions-min versions-newest

$(MIN_STAMP): tests/versions/requirements-min.txt tests/versions/collections-min.yml
	@test -n "$(PYTHON_MIN)" || { echo "error: no Python 3.11 found; set PYTHON_MIN" >&2; exit 2; }
	test -x $(MIN_VENV)/bin/python || $(PYTHON_MIN) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/pip install -q --upgrade pip
	$(MIN_VENV)/bin/pip install -q -r tests/versions/requirements-min.txt
	$(MIN_VENV)/bin/python tests/versions/install_collections.py tests/versions/collections-min.yml $(MIN_VENV)/collections
	touch $@

$(NEWEST_STAMP): tests/versions/requirements-newest.txt
	test -x $(NEWEST_VENV)/bin/python || $(PYTHON_NEWEST) -m venv $(NEWEST_VENV)
	$(NEWEST_VENV)/bin/pip install -q --upgrade pip
	$(NEWEST_VENV)/bin/pip install -q -r tests/versions/requirements-newest.txt
	touch $@

versions-min: $(MIN_STAMP)

versions-newest:
	@if [ -z "$(PYTHON_NEWEST)" ]; then echo "test-versions: no Python 3.13 found (set PYTHON_NEWEST); the newest stack is skipped"; \
	else $(MAKE) --no-print-directory $(NEWEST_STAMP); fi

test-versions: link versions-min versions-newest sandbox  ## the oldest and the newest supported stack, each in a virtualenv of its own
	$(BIN)/pytest -q -rs tests/versions
