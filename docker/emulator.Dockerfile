# ccmatrix emulator image: the Anthropic-compatible upstream (and its provider dialects) used in emulator mode.
# Build from the repository root:  docker build -f docker/emulator.Dockerfile -t ccmatrix/emulator:dev .
# Base and CA bundle: as in worker.Dockerfile (build argument PYTHON_IMAGE; `--secret id=ca,src=...`).

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS project
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /opt/venv
# The context is filtered by docker/<name>.Dockerfile.dockerignore (an allowlist: pyproject, the packages and the
# root data files). An editable install keeps the source tree at /app, so the project root the code derives from
# its own location (manifest.yaml, expected_differences.yaml) is /app, exactly as in a checkout.
# The dependencies first, from pyproject.toml alone, so a change to the code reinstalls only the project (seconds),
# at exactly the versions of requirements.lock (the same emulator strictness as `make run`: anthropic, botocore,
# pydantic): the lock's pins, without its hashes, are the constraints (it also holds the dev tools, not installed).
COPY pyproject.toml requirements.lock ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')); print('\n'.join(p['build-system']['requires'] + p['project']['dependencies']))" > /tmp/requirements.txt \
 && python -c "import re, sys; print('\n'.join(re.findall(r'(?m)^([A-Za-z0-9_.\-\[\]]+==[^\s;\\\\]+(?:\s*;[^\\\\\n]+)?)', open('requirements.lock').read())))" > /tmp/constraints.txt \
 && /opt/venv/bin/pip install -c /tmp/constraints.txt -r /tmp/requirements.txt
COPY . ./
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation -e ./ \
 && /opt/venv/bin/python -m compileall -q /app/ccmatrix /app/producer /app/worker /app/emulator /app/fidelity

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="ccmatrix-emulator" \
      org.opencontainers.image.description="ccmatrix provider emulator (Anthropic Messages, Bedrock, Vertex, Azure dialects)"
RUN groupadd --system --gid 10001 ccmatrix \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /data --shell /usr/sbin/nologin ccmatrix \
 && mkdir -p /data \
 && chown 10001:10001 /data
COPY --from=project /opt/venv /opt/venv
COPY --from=project /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import http.client as h; c = h.HTTPConnection('127.0.0.1', 8080, timeout=4); c.request('HEAD', '/'); raise SystemExit(c.getresponse().status >= 500)"]
CMD ["python", "-m", "emulator", "--host", "0.0.0.0", "--port", "8080", "--data-dir", "/data"]
