# ccmatrix gateway image: the LiteLLM proxy under test, one image per release (`litellm[proxy]==V` in a venv), the
# "proxy image" a worker boots as a sibling container with CCMATRIX_PROXY_RUNTIME=docker (worker/runtimes/docker.py).
# Build from the repository root (docker/build.sh does, per release):
#   docker build -f docker/gateway.Dockerfile --build-arg LITELLM_VERSION=1.106.2 -t ccmatrix/gateway:1.106.2 .
# Behind a TLS-intercepting egress: --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt (never in a layer).
# The runtime passes `--config <file> --host 0.0.0.0 --port 4000 --num_workers 1`; no credential is baked in.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# Same text as worker.Dockerfile's litellm stage, so BuildKit shares the layer between the two images.
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

FROM ${PYTHON_IMAGE}
ARG LITELLM_VERSION=1.106.2
LABEL org.opencontainers.image.title="ccmatrix-gateway" \
      org.opencontainers.image.description="LiteLLM proxy ${LITELLM_VERSION} for ccmatrix" \
      io.ccmatrix.litellm-version="${LITELLM_VERSION}"
RUN groupadd --system --gid 10001 ccmatrix \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin ccmatrix
COPY --from=litellm /opt/litellm /opt/litellm
# The proxy's CLI: `litellm`, or the split distribution's `litellm-proxy` (LiteLLM >= 1.110).
RUN venv="/opt/litellm/${LITELLM_VERSION}/bin" \
 && if [ -x "$venv/litellm" ]; then ln -s "$venv/litellm" /usr/local/bin/ccmatrix-gateway; \
    else ln -s "$venv/litellm-proxy" /usr/local/bin/ccmatrix-gateway; fi
# Offline switches (worker/runtimes/process.py OFFLINE_ENV): no fetch of cost maps or presets at boot.
ENV LITELLM_LOCAL_MODEL_COST_MAP=True \
    LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS=True \
    LITELLM_LOCAL_AUTOROUTER_PRESETS=True \
    LITELLM_LOCAL_BLOG_POSTS=True \
    LITELLM_LOCAL_POLICY_TEMPLATES=True \
    LITELLM_LOG=WARNING \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
WORKDIR /tmp
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:4000/health/liveliness', timeout=4)"]
ENTRYPOINT ["/usr/local/bin/ccmatrix-gateway"]
CMD ["--host", "0.0.0.0", "--port", "4000", "--num_workers", "1"]
