# ccmatrix worker image: the project (Celery worker, `celery -A producer ...`, Flower), the Claude Code native
# binary at a pinned version and the LiteLLM proxy venv at a pinned version. No Node at run time, no credentials.
#
# Build from the repository root (the context must hold pyproject.toml and the packages):
#   docker build -f docker/worker.Dockerfile \
#     --build-arg CLAUDE_CODE_VERSION=2.1.197 --build-arg LITELLM_VERSION=1.106.2 -t ccmatrix/worker:dev .
#
# Layout: the tools are baked read-only in the provisioner's cache layout (with its completion markers),
#   /opt/claude-code/<CLAUDE_CODE_VERSION>/node_modules/.bin/claude
#   /opt/litellm/<LITELLM_VERSION>/bin/litellm                          (the process runtime's venv)
#   /opt/venv + /app                                                    (the project, editable install)
# and docker/worker-entrypoint.sh links them into the WRITABLE cache CCMATRIX_CACHE_DIR=/var/cache/ccmatrix at
# start (the provisioner locks beside each entry and the worker keeps its run directory there), so the root
# filesystem can stay read-only. Other versions than the baked pins are provisioned at run time into the cache
# (LiteLLM from PyPI works; Claude Code needs npm, which this image does not carry: rebuild with the build arg).
#
# Base: PYTHON_IMAGE (default the official python slim image; docker/build.sh passes a Debian base it builds with
# debootstrap where no registry is reachable). Behind a TLS-intercepting egress pass the CA bundle as a build
# secret, `--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt`: it is mounted only while a RUN step fetches
# (pip, the npm registry) and is never written to a layer.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---------------------------------------------------------------------------------------------------------------
# Stage 1: the Claude Code native binary from the npm registry, without Node: docker/fetch-claude.py reads the
# platform package's registry metadata, checks the tarball's sha512 integrity and `claude --version`.
FROM ${PYTHON_IMAGE} AS claude-code
ARG CLAUDE_CODE_VERSION=2.1.197
ARG TARGETARCH=amd64
ARG NPM_REGISTRY=https://registry.npmjs.org
COPY docker/fetch-claude.py /build/fetch-claude.py
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export SSL_CERT_FILE=/run/secrets/ca; fi \
 && case "${TARGETARCH}" in amd64) arch=x64 ;; arm64) arch=arm64 ;; *) echo "unsupported arch ${TARGETARCH}" >&2; exit 1 ;; esac \
 && python /build/fetch-claude.py "${CLAUDE_CODE_VERSION}" /out --arch "$arch" --registry "${NPM_REGISTRY}"

# ---------------------------------------------------------------------------------------------------------------
# Stage 2: the LiteLLM proxy under test, in a venv of its own at its final path (venvs are not relocatable).
# Same text as gateway.Dockerfile's first stage, so BuildKit shares the layer between the two images.
FROM ${PYTHON_IMAGE} AS litellm
ARG LITELLM_VERSION=1.106.2
ARG GOOGLE_AUTH_VERSION=2.62.2
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 LITELLM_LOCAL_MODEL_COST_MAP=True
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python -m venv "/opt/litellm/${LITELLM_VERSION}" \
 && "/opt/litellm/${LITELLM_VERSION}/bin/pip" install "litellm[proxy]==${LITELLM_VERSION}" "google-auth==${GOOGLE_AUTH_VERSION}" \
 && "/opt/litellm/${LITELLM_VERSION}/bin/python" -c "import importlib.metadata as m; assert m.version('litellm') == '${LITELLM_VERSION}'" \
 && printf '%s' "${LITELLM_VERSION}" > "/opt/litellm/${LITELLM_VERSION}/.ccmatrix-ok"

# ---------------------------------------------------------------------------------------------------------------
# Stage 3: the project in /opt/venv.
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

# ---------------------------------------------------------------------------------------------------------------
# Runtime: the same base, no compilers, no Node.
FROM ${PYTHON_IMAGE}
ARG CLAUDE_CODE_VERSION=2.1.197
ARG LITELLM_VERSION=1.106.2
LABEL org.opencontainers.image.title="ccmatrix-worker" \
      org.opencontainers.image.description="ccmatrix Celery worker: Claude Code ${CLAUDE_CODE_VERSION}, LiteLLM ${LITELLM_VERSION}" \
      io.ccmatrix.claude-code-version="${CLAUDE_CODE_VERSION}" \
      io.ccmatrix.litellm-version="${LITELLM_VERSION}"

# git: the `git` publisher pushes the published matrix to a docs repository (how a cluster keeps it). Debian's
# bookworm package, versioned by the pinned base image and its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 ccmatrix \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/ccmatrix --create-home --shell /usr/sbin/nologin ccmatrix \
 && mkdir -p /var/lib/ccmatrix/out /var/cache/ccmatrix \
 && chown 10001:10001 /var/lib/ccmatrix/out /var/cache/ccmatrix

COPY --from=claude-code /out/claude /opt/claude-code/${CLAUDE_CODE_VERSION}/node_modules/.bin/claude
COPY --from=claude-code /out/.ccmatrix-ok /opt/claude-code/${CLAUDE_CODE_VERSION}/.ccmatrix-ok
COPY --from=litellm /opt/litellm /opt/litellm
COPY --from=project /opt/venv /opt/venv
COPY --from=project /app /app
COPY --chmod=0755 docker/worker-entrypoint.sh /usr/local/bin/ccmatrix-entrypoint

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True \
    HOME=/home/ccmatrix \
    CCMATRIX_CACHE_DIR=/var/cache/ccmatrix \
    CCMATRIX_MANIFEST_PATH=/app/manifest.yaml \
    CCMATRIX_OUT_DIR=/var/lib/ccmatrix/out \
    CCMATRIX_PROXY_RUNTIME=process \
    CCMATRIX_NETWORK_ISOLATION=off

USER 10001:10001
WORKDIR /home/ccmatrix

# A worker is healthy when it answers a broadcast ping over the broker (nodename defaults to celery@<hostname>).
HEALTHCHECK --interval=60s --timeout=30s --start-period=60s --retries=3 \
  CMD ["sh", "-c", "celery -A producer inspect ping --timeout 10 -d \"celery@$HOSTNAME\""]

ENTRYPOINT ["/usr/local/bin/ccmatrix-entrypoint"]
CMD ["celery", "-A", "producer", "worker", "--loglevel=INFO", "-E"]
