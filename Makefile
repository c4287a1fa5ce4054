# The two commands for a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing and installs the project with torch pinned (constraints.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q torch==2.13.0 -c constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dynacortex demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_reference.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict    # the site in site/; `$(BIN)/mkdocs serve` to browse it

clean:
	rm -rf $(VENV) build dist site src/*.egg-info
