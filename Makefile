# Two commands: `make run` (the whole matrix locally, on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test test-unit provision emulator bench clean k8s-manifest images stack stack-down test-containers

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/ccmatrix run $(ARGS)

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

test-unit: $(BIN)/.installed
	$(BIN)/python -m pytest -q -ra tests/unit $(PYTEST_ARGS)

provision: $(BIN)/.installed
	$(BIN)/ccmatrix provision

emulator: $(BIN)/.installed
	$(BIN)/ccmatrix emulator --port $${PORT:-8080}

bench: $(BIN)/.installed
	$(BIN)/python bench/pipeline.py

k8s-manifest:  # kustomize only reads inside its root: keep the cluster's copy of the manifest in step
	cp manifest.yaml k8s/base/manifest.yaml

clean:
	rm -rf out test-artifacts .cache/run

# Containers (docker/README in docs/deploy.md): the images, the compose stack running one matrix, its test suite.
images:
	sh docker/build.sh

stack: images
	sh docker/stack.sh $(ARGS)

stack-down:
	sh docker/stack.sh --down

test-containers: $(BIN)/.installed
	CCMATRIX_CONTAINER_TESTS=1 $(BIN)/python -m pytest -q -ra -p no:cacheprovider tests/containers $(PYTEST_ARGS)
