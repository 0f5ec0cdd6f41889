# `make run` opens the app, `make test` runs the tests; both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-core benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py

# One worker per core (pytest-xdist), a test module's tests on one worker so its shared fixtures are
# built once; the 15 slowest tests are listed at the end, so the next slow one is seen.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n auto --dist loadscope --durations=15

test-core: $(STAMP)
	$(PY) -m pytest -q -n auto --dist loadscope -m "not gui"

benchmark: $(STAMP)
	$(PY) benchmarks/omniglot_first_path.py

clean:
	rm -rf $(VENV) build *.egg-info
