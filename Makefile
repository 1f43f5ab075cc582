# Two commands from a fresh clone: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# requirements.lock holds the exact versions tested on Linux; elsewhere pip picks within pyproject.toml's ranges.
LOCK := $(if $(filter Linux,$(shell uname -s)),--constraint requirements.lock)

.PHONY: demo test test-fast lint format clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	@echo "installing cnnapp and its dependencies into $(VENV) (about 4 minutes and 2 GB the first time)"
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install $(LOCK) --editable '.[dev,train,faces,serve,tune,hands]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cnnapp demo

# Two workers (pytest-xdist), each taking whole test files, so that a file's trained runs are made once.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadfile

# The tests that neither train nor start TensorFlow in a subprocess: a quick check while working (under 2 minutes).
test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -m "not slow"

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) runs
