"""Proxy runtime `docker`: boot the LiteLLM proxy under test from its container image via the Docker Engine API.

The image is ``f"{settings.proxy_image}:{tag}"`` where the tag comes from the LiteLLM version through a template
(LiteLLM publishes e.g. ``v1.106.2-stable`` and ``main-v1.106.2``; default ``v{version}-stable``). A
``proxy_image`` that already carries a tag or a digest is used verbatim.

The generated config is bind-mounted read-only at ``/app/config.yaml`` (and any absolute file path the config
names, e.g. a Vertex service-account JSON, is mounted read-only at the same path). The proxy listens on 4000 in the
container, published on 127.0.0.1 of the host at ``spec.port`` (0 = a free port chosen by the engine). The container
carries ccmatrix labels and is removed in ``stop()`` whatever happened before; a failed start removes it at once.

Networking: a config that points an upstream at the host's loopback (the emulator at ``http://127.0.0.1:N``)
cannot work from a bridged container, so ``network="auto"`` (the default) runs such a proxy with host networking
(Linux only), where it binds ``127.0.0.1:<spec.port>`` itself; otherwise the container is bridged and published.

Not exercised by CI here (no Docker engine on these machines): the unit tests check the container spec and the
lifecycle against the SDK's API surface with autospec'd clients.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from worker.runtimes.base import ProxyBootError, ProxySpec

log = logging.getLogger(__name__)

DEFAULT_TAG_TEMPLATE = "v{version}-stable"
CONTAINER_PORT = 4000
CONFIG_MOUNT = "/app/config.yaml"
LABEL = "io.ccmatrix"  # label namespace: io.ccmatrix.role=proxy, io.ccmatrix.litellm-version=..., ...
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
PULL_POLICIES = ("missing", "always", "never")
NETWORK_MODES = ("auto", "bridge", "host")


def _setting(name: str, env: str, default: str) -> str:
    """A settings field if the lead added it, else the CCMATRIX_ env var, else the default."""
    try:
        from ccmatrix.settings import get_settings

        value = getattr(get_settings(), name, None)
    except Exception:  # settings unavailable (e.g. invalid env): fall back to the raw environment
        value = None
    return str(value) if value not in (None, "") else os.environ.get(env, default)


def image_reference(image: str, litellm_version: str, tag_template: str = DEFAULT_TAG_TEMPLATE) -> str:
    """`ghcr.io/berriai/litellm` + 1.106.2 -> `ghcr.io/berriai/litellm:v1.106.2-stable`; explicit tags win."""
    last = image.rsplit("/", 1)[-1]
    if "@" in image or ":" in last:
        return image
    tag = tag_template.format(version=litellm_version.lstrip("v"))
    return f"{image}:{tag}"


def _split_reference(ref: str) -> tuple[str, str | None]:
    if "@" in ref:
        repo, digest = ref.split("@", 1)
        return repo, digest
    head, _, last = ref.rpartition("/")
    if ":" in last:
        name, tag = last.split(":", 1)
        return (f"{head}/{name}" if head else name), tag
    return ref, None


def _walk_strings(node: Any, key: Any = None):
    """Every string leaf of a YAML document as (key, value)."""
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_strings(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_strings(item, key)


def config_uses_host_loopback(config: dict) -> bool:
    """True when an upstream URL in the LiteLLM config points at the host's loopback (e.g. the emulator)."""
    for _key, value in _walk_strings(config):
        if "://" not in value:
            continue
        try:
            host = urlsplit(value).hostname
        except ValueError:
            continue
        if host in LOOPBACK_HOSTS:
            return True
    return False


def referenced_files(config: dict) -> list[Path]:
    """Absolute paths of existing files named in the config (credentials files); mounted read-only as-is."""
    found: list[Path] = []
    for _key, value in _walk_strings(config):
        if value.startswith("/") and "\n" not in value and len(value) < 4096:
            path = Path(value)
            try:
                if path.is_file() and path not in found:
                    found.append(path)
            except OSError:
                continue
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DockerProxyHandle:
    """A running proxy container. `stop()` is idempotent and always removes the container."""

    def __init__(self, container, base_url: str, *, image: str, log_path: Path | None = None,
                 stop_timeout: int = 5) -> None:
        self._container = container
        self.base_url = base_url
        self.image = image
        self.container_id = getattr(container, "id", None)
        self._log_path = log_path
        self._stop_timeout = stop_timeout
        self._final_logs: str | None = None
        self._stopped = False

    def alive(self) -> bool:
        if self._stopped:
            return False
        from docker.errors import DockerException

        try:
            self._container.reload()
        except DockerException:  # NotFound (gone) or the engine went away
            return False
        return self._container.status == "running"

    def log_tail(self, lines: int = 40) -> str:
        if self._final_logs is not None:
            return "\n".join(self._final_logs.splitlines()[-lines:])
        from docker.errors import DockerException

        try:
            raw = self._container.logs(stdout=True, stderr=True, tail=lines)
        except DockerException as exc:
            return f"<proxy container logs unavailable: {exc}>"
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        from docker.errors import DockerException, NotFound

        try:
            raw = self._container.logs(stdout=True, stderr=True)
            self._final_logs = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            if self._log_path is not None:
                Path(self._log_path).write_text(self._final_logs, encoding="utf-8")
        except (DockerException, OSError) as exc:
            log.debug("could not save proxy logs of %s: %s", self.container_id, exc)
            self._final_logs = self._final_logs or ""
        try:
            self._container.stop(timeout=self._stop_timeout)
        except DockerException as exc:
            log.debug("stop of proxy container %s failed (removing anyway): %s", self.container_id, exc)
        finally:
            try:
                self._container.remove(force=True, v=True)
            except NotFound:
                pass
            except DockerException as exc:
                log.warning("could not remove proxy container %s: %s", self.container_id, exc)


class DockerRuntime:
    """`ProxyRuntime` that runs `ghcr.io/berriai/litellm:<tag>` (configurable) through the Docker SDK."""

    name = "docker"

    def __init__(self, client=None, *, image: str | None = None, tag_template: str | None = None,
                 pull: str | None = None, network: str | None = None, stop_timeout: int = 5,
                 mem_limit: str | None = None) -> None:
        self._client_obj = client
        self.image = image or _setting("proxy_image", "CCMATRIX_PROXY_IMAGE", "ghcr.io/berriai/litellm")
        self.tag_template = tag_template or _setting(
            "proxy_image_tag_template", "CCMATRIX_PROXY_IMAGE_TAG_TEMPLATE", DEFAULT_TAG_TEMPLATE)
        self.pull = (pull or _setting("proxy_image_pull", "CCMATRIX_PROXY_IMAGE_PULL", "missing")).lower()
        self.network = (network or _setting("proxy_docker_network", "CCMATRIX_PROXY_DOCKER_NETWORK", "auto")).lower()
        if self.pull not in PULL_POLICIES:
            raise ValueError(f"proxy image pull policy {self.pull!r} not in {PULL_POLICIES}")
        if self.network not in NETWORK_MODES:
            raise ValueError(f"proxy docker network {self.network!r} not in {NETWORK_MODES}")
        self.stop_timeout = stop_timeout
        self.mem_limit = mem_limit or os.environ.get("CCMATRIX_PROXY_MEM_LIMIT") or None
        self._swept = False  # leftovers of dead workers on this host are removed once, before the first start

    # -- helpers ---------------------------------------------------------------------------------------------
    def image_for(self, litellm_version: str) -> str:
        return image_reference(self.image, litellm_version, self.tag_template)

    def client(self):
        if self._client_obj is not None:
            return self._client_obj
        try:
            import docker
            from docker.errors import DockerException
        except ImportError as exc:  # the `docker` extra is not installed
            raise ProxyBootError("proxy runtime 'docker' needs the docker SDK: pip install 'ccmatrix[docker]'") from exc
        try:
            client = docker.from_env()
            client.ping()
        except DockerException as exc:
            where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
            raise ProxyBootError(
                f"Docker engine unreachable at {where}: {exc}. Start an engine, set DOCKER_HOST, "
                f"or use CCMATRIX_PROXY_RUNTIME=process") from exc
        self._client_obj = client
        return client

    def ensure_image(self, client, image: str) -> None:
        from docker.errors import APIError, DockerException, ImageNotFound

        if self.pull != "always":
            try:
                client.images.get(image)
                return
            except ImageNotFound:
                if self.pull == "never":
                    raise ProxyBootError(
                        f"proxy image {image} is not present and pulling is disabled "
                        f"(CCMATRIX_PROXY_IMAGE_PULL=never)") from None
            except DockerException as exc:
                raise ProxyBootError(f"cannot inspect proxy image {image}: {exc}") from exc
        repo, tag = _split_reference(image)
        try:
            client.images.pull(repo, tag=tag)
        except (ImageNotFound, APIError) as exc:
            detail = getattr(exc, "explanation", None) or str(exc)
            raise ProxyBootError(
                f"proxy image {image} is missing and could not be pulled: {detail} "
                f"(check CCMATRIX_PROXY_IMAGE and the tag template {self.tag_template!r})") from exc
        except DockerException as exc:
            raise ProxyBootError(f"pulling proxy image {image} failed: {exc}") from exc

    def container_kwargs(self, spec: ProxySpec, config: dict) -> tuple[dict, int | None]:
        """The `containers.create` keyword arguments for `spec` and the host port (None = engine-chosen)."""
        config_path = Path(spec.config_path).resolve()
        env = dict(OFFLINE_ENV)
        env.update(spec.env)
        env["LITELLM_MASTER_KEY"] = spec.master_key
        volumes = {str(config_path): {"bind": CONFIG_MOUNT, "mode": "ro"}}
        for path in referenced_files(config):
            volumes.setdefault(str(path), {"bind": str(path), "mode": "ro"})
        mode = self.network
        if mode == "auto":
            mode = "host" if config_uses_host_loopback(config) else "bridge"
        labels = {
            f"{LABEL}.role": "proxy",
            f"{LABEL}.litellm-version": spec.litellm_version,
            f"{LABEL}.owner-pid": str(os.getpid()),
            f"{LABEL}.owner-host": socket.gethostname(),
        }
        kwargs: dict[str, Any] = {
            "name": f"ccmatrix-proxy-{uuid.uuid4().hex[:12]}",
            "detach": True,
            "environment": env,
            "volumes": volumes,
            "labels": labels,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
        }
        if self.mem_limit:
            kwargs["mem_limit"] = self.mem_limit
        if mode == "host":
            port = spec.port or _free_port()
            kwargs["command"] = ["--config", CONFIG_MOUNT, "--host", "127.0.0.1", "--port", str(port)]
            kwargs["network_mode"] = "host"
            return kwargs, port
        kwargs["command"] = ["--config", CONFIG_MOUNT, "--port", str(CONTAINER_PORT)]
        kwargs["ports"] = {f"{CONTAINER_PORT}/tcp": ("127.0.0.1", spec.port or None)}
        kwargs["extra_hosts"] = {"host.docker.internal": "host-gateway"}
        return kwargs, (spec.port or None)

    @staticmethod
    def published_port(container) -> int:
        container.reload()
        bindings = (container.ports or {}).get(f"{CONTAINER_PORT}/tcp") or []
        for binding in bindings:
            if binding.get("HostPort"):
                return int(binding["HostPort"])
        raise ProxyBootError(f"proxy container {container.id} has no published port for {CONTAINER_PORT}/tcp")

    # -- ProxyRuntime ------------------------------------------------------------------------------------------
    def start(self, spec: ProxySpec, sandbox=None) -> DockerProxyHandle:
        """Create and start the container; readiness (/health/liveliness) is polled by the caller.

        The container is the isolation boundary here: a loopback-only sandbox (network namespace) cannot be
        joined by a container, so an isolated `sandbox` is refused with a clear error.
        """
        from docker.errors import APIError, DockerException, ImageNotFound

        if getattr(sandbox, "isolated", False):
            raise ProxyBootError("the docker proxy runtime cannot run inside the loopback-only network sandbox: "
                                 "set CCMATRIX_NETWORK_ISOLATION=off with CCMATRIX_PROXY_RUNTIME=docker")

        config_path = Path(spec.config_path).resolve()
        try:
            config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ProxyBootError(f"proxy config {config_path} unreadable: {exc}") from exc
        client = self.client()
        if not self._swept:
            self._swept = True
            try:
                removed = self.cleanup_leftovers()
                if removed:
                    log.info("removed %d proxy container(s) left behind by dead workers", removed)
            except Exception as exc:  # best effort: never a reason not to boot
                log.debug("leftover sweep failed: %s", exc)
        image = self.image_for(spec.litellm_version)
        self.ensure_image(client, image)
        kwargs, port = self.container_kwargs(spec, config)
        try:
            container = client.containers.create(image, **kwargs)
        except ImageNotFound as exc:
            raise ProxyBootError(f"proxy image {image} not found: {exc}") from exc
        except (APIError, DockerException) as exc:
            raise ProxyBootError(f"creating the proxy container from {image} failed: {exc}") from exc
        try:
            container.start()
            if kwargs.get("network_mode") != "host":
                port = self.published_port(container)
        except BaseException as exc:
            try:
                container.remove(force=True, v=True)
            except DockerException as rm_exc:
                log.warning("could not remove failed proxy container %s: %s", container.id, rm_exc)
            if isinstance(exc, ProxyBootError):
                raise
            if isinstance(exc, DockerException):
                raise ProxyBootError(f"starting the proxy container from {image} failed: {exc}") from exc
            raise
        return DockerProxyHandle(container, f"http://127.0.0.1:{port}", image=image, log_path=spec.log_path,
                                 stop_timeout=self.stop_timeout)

    def cleanup_leftovers(self) -> int:
        """Remove proxy containers this host's dead worker processes left behind; returns how many."""
        from docker.errors import DockerException

        client = self.client()
        removed = 0
        host = socket.gethostname()
        for container in client.containers.list(all=True, filters={"label": [f"{LABEL}.role=proxy",
                                                                              f"{LABEL}.owner-host={host}"]}):
            pid = int(container.labels.get(f"{LABEL}.owner-pid", "0") or 0)
            if pid and _pid_alive(pid):
                continue
            try:
                container.remove(force=True, v=True)
                removed += 1
            except DockerException as exc:
                log.warning("could not remove leftover proxy container %s: %s", container.id, exc)
        return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["DockerRuntime", "DockerProxyHandle", "image_reference", "DEFAULT_TAG_TEMPLATE"]
