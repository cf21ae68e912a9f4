# Two entry points that work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test pytest bench stability pictures lint clean

# The suite starts some 400 pytest processes. pytest rewrites the asserts of every module
# of a plugin's distribution (hypothesis: 158 modules) and keeps the result as bytecode;
# with PYTHONDONTWRITEBYTECODE set it redoes that in each process (a one-test run with
# hypothesis's plugin: 2.8 s instead of 1.3 s).
unexport PYTHONDONTWRITEBYTECODE

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/activate

# Run the bundled example suite with leak forensics: three leaking tests, six clean traps.
demo: $(BIN)/activate
	cd examples/demo && ../../$(BIN)/python -m pytest --leak-forensics \
		--leak-forensics-json=leak-report.json -p no:cacheprovider
	@echo "JSON report: examples/demo/leak-report.json"

test: $(BIN)/activate
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

# The suite alone, e.g. on another interpreter: make pytest PYTHON=python3.13 VENV=.venv-3.13
pytest: $(BIN)/activate
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

# Cost ratios against baselines measured in the same run (downloads more-itertools' and jinja2's sdists
# once; makes the 1.2 M-trace snapshot pairs once).
bench: $(BIN)/activate
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/snapshot_diff.py
	$(BIN)/python benchmarks/owner_chains.py
	$(BIN)/python benchmarks/shared_leak.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/runner.py

# Verdicts and sites that change between idle and loaded, serial and -n 2 (target 0).
stability: $(BIN)/activate
	$(BIN)/python benchmarks/stability.py

# The README's pictures, drawn from two runs of the example (docs/images/*.png, committed).
pictures: $(BIN)/activate
	$(BIN)/python docs/make_pictures.py

clean:
	rm -rf $(VENV) .venv-3.* build *.egg-info src/*.egg-info examples/demo/leak-report.json
