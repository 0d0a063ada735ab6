# The two commands of the README: `make demo` (main job) and `make test` (tests).
# Both set up everything on a fresh machine; re-running them skips what is done.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/dualcontrol demo $(DEMO_ARGS)

test: setup
	bash scripts/test-services.sh
	$(VENV)/bin/ruff check .
	. ./var/test-env.sh && $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: setup
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var
