# The two commands for a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing and installs the project with torch pinned (constraints.txt); `make test` also
# builds the Brain-Score environment (.venv-brainscore) and runs its offline tests after the main suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs install clean brainscore-env test-brainscore

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
	$(MAKE) test-brainscore

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_reference.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict    # the site in site/; `$(BIN)/mkdocs serve` to browse it

# Brain-Score (docs/brainscore.md): brainscore-vision 2.4.2 pins numpy<2, xarray<2022.6 and scikit-learn<1.6,
# so it has an environment of its own. brainscore-vision and dynacortex go in with --no-deps; what they need
# is in requirements-brainscore.txt (pins: constraints-brainscore.txt, torch the same 2.13.0).
BS_VENV := .venv-brainscore
BS_BIN := $(BS_VENV)/bin
BS_STAMP := $(BS_VENV)/.installed

$(BS_BIN)/python:
	$(PYTHON) -m venv $(BS_VENV)
	$(BS_BIN)/python -m pip install -q --upgrade pip

$(BS_STAMP): $(BS_BIN)/python pyproject.toml requirements-brainscore.txt constraints-brainscore.txt
	$(BS_BIN)/python -m pip install -q -c constraints-brainscore.txt -r requirements-brainscore.txt
	$(BS_BIN)/python -m pip install -q -c constraints-brainscore.txt --no-deps brainscore-vision
	$(BS_BIN)/python -m pip install -q --no-deps -e .
	touch $(BS_STAMP)

brainscore-env: $(BS_STAMP)

test-brainscore: $(BS_STAMP)   # offline: plugins load without installing anything, nothing is downloaded
	BS_INSTALL_DEPENDENCIES=no OMP_NUM_THREADS=1 $(BS_BIN)/python -m pytest -q -s -p no:cacheprovider tests_brainscore

clean:
	rm -rf $(VENV) $(BS_VENV) build dist site src/*.egg-info
