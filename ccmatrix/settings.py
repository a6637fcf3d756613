"""Settings from the environment (prefix CCMATRIX_) or a .env file. Secrets are SecretStr: never printed."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # Credentials may also be files named like the variables (Kubernetes Secret volumes) in $CCMATRIX_SECRETS_DIR.
    model_config = SettingsConfigDict(env_prefix="CCMATRIX_", env_file=".env", extra="ignore",
                                      secrets_dir=os.environ.get("CCMATRIX_SECRETS_DIR") or None)

    broker_url: str | None = None
    result_backend: str | None = None

    cache_dir: Path = PROJECT_ROOT / ".cache"
    out_dir: Path = PROJECT_ROOT / "out"
    history_dir: Path | None = None  # default: <out_dir>/history (see ccmatrix.publish.history)
    manifest_path: Path = PROJECT_ROOT / "manifest.yaml"

    # Publishers, comma separated: directory, git
    publishers: str = "directory"
    git_repo: str | None = None  # path or URL of the docs repository
    git_branch: str = "main"
    git_path: str = "compatibility-matrix.json"  # the only path the git publisher will write
    git_credentials_file: Path | None = None

    # Worker runtime
    proxy_runtime: str = "process"  # how the gateway under test is booted (worker/runtimes): process
    # The gateway profile a run uses unless --gateway-profile says otherwise (gateway_profiles/litellm.yaml).
    gateway_profile: str = "recommended"  # what users run: LiteLLM's own Claude Code settings
    network_isolation: str = "auto"  # auto (on when root and unshare work) | on | off
    cli_timeout_s: float = 180.0
    # `--claude-code-version latest` = the newest final release published at least this many days ago.
    claude_code_min_age_days: float = 3.0
    # Keep each job's captures (emulator and recorder) and the per-process run directories after use (debugging).
    keep_run_files: bool = False
    proxy_boot_timeout_s: float = 120.0
    job_time_limit_s: int = 1800
    # The hard limit (the job's process is killed) comes this long after the soft one (job_time_limit_s), which
    # lets the job stop its CLI run and report its unfinished tiers as `error`.
    job_time_limit_grace_s: int = Field(default=60, ge=1)
    cli_max_retries: int = 0
    # Jobs a worker runs at once; 0 (the default): sized from cores, MemAvailable and the latency mode
    # (ccmatrix/sizing.py: one per core when CPU-bound, more when the run waits on provider latency).
    worker_concurrency: int = Field(default=0, ge=0)

    # Shared per-provider rate limit, requests per second (0 = off), kept in the broker's Redis.
    # `rate_limits` overrides per provider, e.g. CCMATRIX_RATE_LIMITS='{"<provider id>": 0.5}'. Off for the emulator.
    rate_limit_rps: float = 0.0
    rate_limits: dict[str, float] = Field(default_factory=dict)
    rate_limit_emulator: bool = False
    # Retries of a tier whose outcome was a transient infrastructure error (429, 5xx, 529, timeouts) — never a fail.
    tier_retries: int = 2
    retry_backoff_s: float = 2.0
    retry_max_wait_s: float = 30.0

    # Fidelity: record what the CLI sent (a pass-through in front of the proxy) and diff it against what the
    # provider received. On by default in emulator mode; off takes the recorder out of the request path.
    fidelity: bool = True
    strict_fidelity: bool = False
    # Latency realism in the emulator (emulator/latency.py): off | realistic[,seed=N] | ttft=800ms±200,tps=60[,seed=N]
    emulator_latency: str = "off"

    @field_validator("emulator_latency")
    @classmethod
    def _latency_spec(cls, value: str) -> str:
        from emulator.latency import LatencySpecError, parse_spec

        try:
            parse_spec(value)
        except LatencySpecError as error:
            raise ValueError(str(error)) from None
        return value.strip() or "off"

    @model_validator(mode="after")
    def _sized_concurrency(self) -> "Settings":
        if not self.worker_concurrency:
            from ccmatrix.sizing import default_concurrency

            self.worker_concurrency = default_concurrency(self.emulator_latency, real_columns=bool(self.real_providers()))
        return self

    # Real provider credentials: any of them set switches that column to the real provider.
    anthropic_api_key: SecretStr | None = None
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    aws_region: str = "us-east-1"
    vertex_credentials_file: Path | None = None
    vertex_project: str | None = None
    vertex_location: str = "us-east5"
    azure_api_key: SecretStr | None = None
    azure_api_base: str | None = None

    def real_providers(self) -> set[str]:
        """The routes that have real credentials configured (the others use the emulator); each provider package
        says which settings it needs (`providers/<id>/__init__.py`, `real_requires`)."""
        from providers import registry

        return registry.real_ids(self)


class SettingsError(ValueError):
    """A setting that cannot be read: one line naming the variable and what is wrong (never its value, which may
    be a secret)."""


def describe(error: Exception) -> str:
    """One line for a pydantic ValidationError (each bad variable and why) or a pydantic-settings SettingsError."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        parts = []
        for item in errors():
            name = "CCMATRIX_" + "_".join(str(p) for p in item.get("loc", ())).upper()
            parts.append(f"{name}: {item.get('msg', 'invalid')}")
        return "bad setting(s): " + "; ".join(parts)
    return "bad setting(s): " + " ".join(str(error).split())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings; a variable that cannot be read raises SettingsError (one line), never a pydantic traceback."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError as SourceError

    try:
        return Settings()
    except (ValidationError, SourceError) as error:
        raise SettingsError(describe(error)) from None
