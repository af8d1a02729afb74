# Two commands do all the set-up on a fresh machine: `make up` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
REQS := requirements-dev.txt backend-flask/requirements.txt backend-flask/constraints.txt pyproject.toml

.PHONY: help venv up test image bench lint docs clean lock
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

venv: $(STAMP) ## create .venv and install the pinned dependencies

$(STAMP): $(REQS)
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) ..."
	@$(VPY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# The project itself, editable (pyproject.toml): backend-flask/ and lib/ import from this checkout.
	@# --no-deps: the pins above are the whole environment; --no-build-isolation: the pinned hatchling builds it.
	@$(VPY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/lib/python3*/site-packages/cruddur-dev.pth  # what make venv wrote before pyproject.toml
	@touch $@

up: venv ## run the whole local stack and the API on 127.0.0.1:4567 (Ctrl-C stops it)
	@bin/dev/up

test: venv lint ## lint, then run the whole test suite against real PostgreSQL and the local AWS emulator
	@bin/dev/test

lint: venv ## ruff check and ruff format --check (pyproject.toml [tool.ruff]); exit 1 on any finding
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

image: venv ## build the backend image and the local stand-in images (Docker; no registry needed)
	@bin/dev/image

bench: venv ## measure the API under load (writes journal/bench-*.md)
	@bin/dev/bench

docs: venv ## rewrite the journal's generated blocks (lint's rules, the kit's commands) from the code
	@bin/dev/docs

lock: venv ## rewrite backend-flask/constraints.txt (every transitive pin) from the installed environment
	@$(VPY) -m pip freeze --exclude-editable | grep -v '^-e' > backend-flask/constraints.txt

clean: ## remove the virtual environment (keeps .local/ data)
	rm -rf $(VENV)
