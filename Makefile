# Two commands do all the set-up on a fresh machine: `make up` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
REQS := requirements-dev.txt backend-flask/requirements.txt backend-flask/constraints.txt

.PHONY: help venv up test image bench lint clean lock
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

venv: $(STAMP) ## create .venv and install the pinned dependencies

$(STAMP): $(REQS)
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) ..."
	@$(VPY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# The app package (backend-flask/) and the kit library (lib/) are importable everywhere.
	@$(VPY) -c 'import sysconfig, pathlib; p = pathlib.Path(sysconfig.get_paths()["purelib"]) / "cruddur-dev.pth"; p.write_text("$(CURDIR)/backend-flask\n$(CURDIR)/lib\n")'
	@touch $@

up: venv ## run the whole local stack and the API on 127.0.0.1:4567 (Ctrl-C stops it)
	@bin/dev/up

test: venv ## run the whole test suite against real PostgreSQL and the local AWS emulator
	@bin/dev/test

image: venv ## build the backend image and the local stand-in images (Docker; no registry needed)
	@bin/dev/image

bench: venv ## measure the API under load (writes journal/bench-*.md)
	@bin/dev/bench

lock: venv ## rewrite backend-flask/constraints.txt (every transitive pin) from the installed environment
	@$(VPY) -m pip freeze --exclude-editable | grep -v '^-e' > backend-flask/constraints.txt

clean: ## remove the virtual environment (keeps .local/ data)
	rm -rf $(VENV)
