# The two commands of the README: `make demo` and `make test`.  Both set up
# .venv from nothing on a fresh machine (python3 with venv is all they need).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench docs clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	@echo "== caffelint check fixtures/demo/solver.prototxt"
	@$(BIN)/caffelint check fixtures/demo/solver.prototxt || true
	@echo
	@echo "== caffelint fix fixtures/demo (a diff; nothing is written)"
	@$(BIN)/caffelint fix fixtures/demo || true
	@echo
	@echo "== caffelint fix --unsafe-fixes fixtures/demo (also the fixes that change training)"
	@$(BIN)/caffelint fix --unsafe-fixes fixtures/demo 2>/dev/null || true

lint: $(STAMP)
	$(BIN)/ruff check caffelint tests bench fixtures proto
	$(BIN)/python proto/generate.py --check

# The end-to-end tests run real Caffe: .ci/build-caffe.sh builds it once per machine
# (about 5 minutes) into a cache keyed by its recipe and prints the tools' folder.
test: $(STAMP) lint
	caffe_bin="$$(bash .ci/build-caffe.sh | tail -n 1)"; \
	CAFFELINT_CAFFE_BIN="$$caffe_bin" $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/check.py
	$(BIN)/python bench/data.py
	$(BIN)/python bench/log.py

docs: $(STAMP)
	$(BIN)/python -m caffelint.report.catalogue --write docs/rules.md --index rules/index.json
	$(BIN)/python -m caffelint.facts caffelint/data/facts.json

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
