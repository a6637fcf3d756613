# Two commands: `make run` (the whole matrix locally, on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test test-unit lock provision emulator bench clean k8s-manifest images stack stack-down test-containers test-corpus

# The environment is the lock's (requirements.lock: every package, version and hash, dev tools included), then the
# project itself without dependencies: two installs judge a request with the same anthropic/botocore/pydantic.
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes -r requirements.lock
	$(BIN)/pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $@

# Regenerate requirements.lock after a change to pyproject.toml's dependencies (uv, pinned, in a venv of its own
# under .cache/). It keeps the locked versions that still satisfy pyproject; LOCK_ARGS=--upgrade takes the newest,
# LOCK_ARGS="--upgrade-package anthropic" one package.
UV_VERSION := 0.13.8
LOCK_TOOL := .cache/lock-tool
LOCK_ARGS ?=
lock:
	test -x $(LOCK_TOOL)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOL) && $(LOCK_TOOL)/bin/pip install -q uv==$(UV_VERSION); }
	$(LOCK_TOOL)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 \
		--native-tls --custom-compile-command "make lock" -o requirements.lock $(LOCK_ARGS)

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

# The known-bug corpus against real LiteLLM releases (tests/corpus): each modelled case at its buggy and fixed release,
# and one bisect across three real releases. Provisions the releases it needs under .cache/ (minutes each, once).
test-corpus: $(BIN)/.installed
	CCMATRIX_CORPUS_TESTS=1 $(BIN)/python -m pytest -q -ra -p no:cacheprovider tests/corpus $(PYTEST_ARGS)

test-containers: $(BIN)/.installed
	CCMATRIX_CONTAINER_TESTS=1 $(BIN)/python -m pytest -q -ra -p no:cacheprovider tests/containers $(PYTEST_ARGS)

# Drills (issue 16): each a scripted fault against a real stack (Redis, Celery workers, gateway, emulator), one line
# per drill `drill | held/broken | figure`, then `N/N drills held` (exit 1 unless all held). About 5 minutes; as root
# (the full-disk drill mounts a tmpfs; the egress drill reads the sandbox's network namespace).
.PHONY: drills
drills: $(BIN)/.installed
	$(BIN)/python -m drills $(ARGS)
