"""The git publisher: commit the matrix file to a docs repository, on a branch or on main, and push.

- Only the allowlisted path (`settings.git_path`) is ever written; asking for any other path raises GitRefused.
- The work dir is a clone under `<cache_dir>/publish/git/<hash of the repo>`, reset to the remote branch each time.
- Content that is identical to what the branch holds, ignoring `generated_at` and `run_id`, is not committed.
- Credentials for a remote come from `settings.git_credentials_file` or `CCMATRIX_GIT_TOKEN`, and reach git only
  through a GIT_ASKPASS helper that reads them from the environment of the git process: never the URL, argv, a
  log line, a commit or a result. Every message that leaves this module is passed through `redact`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from filelock import FileLock
from pydantic import BaseModel

from ccmatrix.publish.directory import atomic_write

log = logging.getLogger("ccmatrix.publish.git")

IGNORED_KEYS = ("generated_at", "run_id")
TOKEN_ENV = "CCMATRIX_GIT_TOKEN"
USERNAME_ENV = "CCMATRIX_GIT_USERNAME"
_HELPER_TOKEN_ENV = "CCMATRIX_ASKPASS_SECRET"
_HELPER_USER_ENV = "CCMATRIX_ASKPASS_USERNAME"
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_ASKPASS = """#!/bin/sh
case "$1" in
  [Uu]sername*) printf '%s\\n' "${CCMATRIX_ASKPASS_USERNAME:-x-access-token}" ;;
  *) printf '%s\\n' "$CCMATRIX_ASKPASS_SECRET" ;;
esac
"""


class GitRefused(Exception):
    """The git publisher will not do this (a path outside the allowlist, credentials in the URL...)."""


class GitPublishError(RuntimeError):
    """A git command failed; the message is redacted."""


class GitResult(BaseModel):
    repo: str  # redacted
    branch: str
    path: str
    committed: bool
    pushed: bool
    commit: str | None = None
    reason: str = ""

    @property
    def target(self) -> str:
        return f"git:{self.repo}@{self.branch}:{self.path}"


class Credentials:
    """A username and a secret, kept out of repr/str."""

    def __init__(self, username: str | None, secret: str):
        self.username = username
        self._secret = secret

    @property
    def secret(self) -> str:
        return self._secret

    def __repr__(self) -> str:  # never the secret
        return f"Credentials(username={self.username!r}, secret=***)"

    __str__ = __repr__


def load_credentials(settings: Any, environ: dict[str, str] | None = None) -> Credentials | None:
    """From `settings.git_credentials_file` (a bare token, `user:token`, or git-credential `key=value` lines),
    else from the environment (`CCMATRIX_GIT_TOKEN`, optional `CCMATRIX_GIT_USERNAME`)."""
    environ = os.environ if environ is None else environ
    path = getattr(settings, "git_credentials_file", None)
    if path:
        text = Path(path).read_text(encoding="utf-8")
        fields = dict(
            line.split("=", 1) for line in text.splitlines() if "=" in line and line.split("=", 1)[0] in ("username", "password")
        )
        if "password" in fields:
            return Credentials(fields.get("username") or None, fields["password"].strip())
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise GitRefused(f"git credentials file {path} is empty")
        first = lines[0]
        if ":" in first and not first.startswith(("ghp_", "github_pat_")) and first.count(":") == 1:
            user, secret = first.split(":", 1)
            return Credentials(user or None, secret)
        return Credentials(environ.get(USERNAME_ENV) or None, first)
    token = environ.get(TOKEN_ENV)
    if token:
        return Credentials(environ.get(USERNAME_ENV) or None, token.strip())
    return None


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Remove secrets and URL userinfo from a message."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _URL_USERINFO.sub(lambda m: m.group("scheme") + "***@", text)


def normalized(content: str | bytes) -> bytes:
    """The bytes compared for "unchanged": the JSON without generated_at/run_id, else the raw bytes."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    try:
        document = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(document, dict):
        for key in IGNORED_KEYS:
            document.pop(key, None)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check_allowed_path(requested: str, allowed: str) -> str:
    """The one path the publisher writes: relative, normalised, not inside .git, and equal to the allowlisted one."""
    def clean(p: str) -> str:
        if not p or p.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", p) or "\\" in p or "\0" in p:
            raise GitRefused(f"path {p!r} is not a plain relative path")
        norm = posixpath.normpath(p)
        parts = norm.split("/")
        if norm in (".", "") or ".." in parts or any(part.lower() == ".git" for part in parts):
            raise GitRefused(f"path {p!r} is not allowed")
        return norm

    allowed_norm = clean(allowed)
    requested_norm = clean(requested)
    if requested_norm != allowed_norm or requested != allowed:
        raise GitRefused(f"refusing to write {requested!r}: the git publisher only writes {allowed!r} (settings.git_path)")
    return allowed_norm


class GitPublisher:
    def __init__(self, settings: Any, *, environ: dict[str, str] | None = None, max_push_attempts: int = 3):
        self.settings = settings
        repo = getattr(settings, "git_repo", None)
        if not repo:
            raise GitRefused("the git publisher needs settings.git_repo (CCMATRIX_GIT_REPO): a path or URL")
        if _URL_USERINFO.search(repo):
            raise GitRefused("settings.git_repo must not carry credentials in the URL; "
                             "use CCMATRIX_GIT_CREDENTIALS_FILE or CCMATRIX_GIT_TOKEN")
        if "://" not in repo and Path(repo).expanduser().exists():  # a local path: absolute, wherever git runs
            repo = str(Path(repo).expanduser().resolve())
        self.repo = repo
        self.branch = getattr(settings, "git_branch", None) or "main"
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", self.branch) or self.branch.startswith("-") or ".." in self.branch:
            raise GitRefused(f"invalid branch name {self.branch!r}")
        self.allowed_path = getattr(settings, "git_path", None) or "compatibility-matrix.json"
        check_allowed_path(self.allowed_path, self.allowed_path)
        self.credentials = load_credentials(settings, environ)
        self.max_push_attempts = max_push_attempts
        digest = hashlib.sha256(repo.encode()).hexdigest()[:16]
        self.workdir = Path(getattr(settings, "cache_dir")) / "publish" / "git" / digest

    # --- plumbing --------------------------------------------------------------------------------------------
    @property
    def _secrets(self) -> list[str]:
        if not self.credentials:
            return []
        import base64

        user = self.credentials.username or "x-access-token"
        basic = base64.b64encode(f"{user}:{self.credentials.secret}".encode()).decode()
        return [self.credentials.secret, basic, basic.rstrip("=")]

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    @contextmanager
    def _environment(self) -> Iterator[dict[str, str]]:
        # no inherited GIT_* (GIT_TRACE*/GIT_CURL_VERBOSE would log the Authorization header), except transport settings
        keep = {"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_PROXY_COMMAND"}
        env = {k: v for k, v in os.environ.items() if k in keep or not k.startswith(("GIT_", "CCMATRIX_GIT_"))}
        env.update(
            GIT_TERMINAL_PROMPT="0",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="ccmatrix",
            GIT_AUTHOR_EMAIL="ccmatrix@localhost",
            GIT_COMMITTER_NAME="ccmatrix",
            GIT_COMMITTER_EMAIL="ccmatrix@localhost",
            LC_ALL="C",
        )
        env.pop(TOKEN_ENV, None)
        if not self.credentials:
            yield env
            return
        helper_dir = Path(tempfile.mkdtemp(prefix="ccmatrix-askpass-"))
        try:
            helper = helper_dir / "askpass.sh"
            helper.write_text(_ASKPASS)
            helper.chmod(stat.S_IRWXU)
            env["GIT_ASKPASS"] = str(helper)
            env[_HELPER_TOKEN_ENV] = self.credentials.secret
            if self.credentials.username:
                env[_HELPER_USER_ENV] = self.credentials.username
            yield env
        finally:
            shutil.rmtree(helper_dir, ignore_errors=True)

    def _git(self, env: dict[str, str], *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        # credential.helper= : no stored helper supplies or stores anything; GIT_ASKPASS is the only source
        cmd = ["git", "-c", "credential.helper=", *args]
        proc = subprocess.run(cmd, cwd=cwd or self.workdir, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        if check and proc.returncode != 0:
            message = self._redact(f"git {args[0]} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
            log.warning("%s", message)
            raise GitPublishError(message)
        return proc

    def _prepare(self, env: dict[str, str]) -> bool:
        """Clone or fetch, then put the work tree at the remote branch. Returns whether the branch exists remotely."""
        if not (self.workdir / ".git").is_dir():
            if self.workdir.exists():
                shutil.rmtree(self.workdir)
            self.workdir.parent.mkdir(parents=True, exist_ok=True)
            self._git(env, "clone", "--quiet", "--no-checkout", "--", self.repo, str(self.workdir), cwd=self.workdir.parent)
        else:
            self._git(env, "remote", "set-url", "origin", self.repo)
        self._git(env, "fetch", "--quiet", "--prune", "origin")
        self._git(env, "remote", "set-head", "origin", "--auto", check=False)  # the remote's default branch, if any
        remote_ref = f"refs/remotes/origin/{self.branch}"
        exists = self._git(env, "rev-parse", "--verify", "--quiet", remote_ref, check=False).returncode == 0
        if exists:
            self._git(env, "checkout", "--quiet", "--force", "-B", self.branch, remote_ref)
        else:
            head = self._git(env, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False).stdout.strip()
            if head:  # a new branch from the remote's default branch
                self._git(env, "checkout", "--quiet", "--force", "-B", self.branch, head)
            else:  # an empty repository
                self._git(env, "checkout", "--quiet", "--force", "--orphan", self.branch)
                self._git(env, "rm", "-r", "-q", "--cached", "--ignore-unmatch", ".")
        self._git(env, "clean", "-fdxq")
        return exists

    # --- the publisher ---------------------------------------------------------------------------------------
    def publish(self, content: str, *, path: str | None = None, litellm_version: str, claude_code_version: str,
                run_id: str | None = None, summary: str = "") -> GitResult:
        path = check_allowed_path(self.allowed_path if path is None else path, self.allowed_path)
        return self.publish_files({path: content}, litellm_version=litellm_version,
                                  claude_code_version=claude_code_version, run_id=run_id, summary=summary)

    def check_run_path(self, requested: str) -> str:
        """A path of a run's set of files: `git_path` itself, a gateway's matrix next to it
        (`<stem>-<gateway>.json`) or the index (`<stem>.index.json`) — nothing else (GitRefused)."""
        from ccmatrix.publish.index import index_file, matrix_file

        base = check_allowed_path(self.allowed_path, self.allowed_path)
        if requested == base:
            return base
        if requested == index_file(base):
            return check_allowed_path(requested, requested)
        stem = posixpath.splitext(base)[0] + "-"
        gateway = requested[len(stem):-len(".json")] if requested.startswith(stem) and requested.endswith(".json") else ""
        if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", gateway) and requested == matrix_file(gateway, base):
            return check_allowed_path(requested, requested)
        raise GitRefused(f"refusing to write {requested!r}: the git publisher only writes {self.allowed_path!r} "
                         f"(settings.git_path) and the files of its run next to it")

    def publish_files(self, files: dict[str, str], *, litellm_version: str, claude_code_version: str,
                      run_id: str | None = None, summary: str = "") -> GitResult:
        """Commit `files` ({path: content}, each allowed by check_run_path) in one commit and push; nothing when
        every file is unchanged (ignoring generated_at and run_id)."""
        files = {self.check_run_path(path): content for path, content in files.items()}
        path = ", ".join(files)
        shown_repo = self._redact(self.repo)
        from ccmatrix.local_source import label  # a release: "LiteLLM 1.2.3"; a local tree or wheel: its label

        message = f"Update compatibility matrix: {label(litellm_version)}, Claude Code {claude_code_version}"
        body = [f"LiteLLM version: {litellm_version}", f"Claude Code version: {claude_code_version}"]
        if run_id:
            body.append(f"Run: {run_id}")
        full_message = message + "\n\n" + "\n".join(body) + ("\n\n" + summary.strip() if summary.strip() else "") + "\n"
        full_message = self._redact(full_message)
        self.workdir.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.workdir) + ".lock", timeout=600), self._environment() as env:
            for attempt in range(1, self.max_push_attempts + 1):
                self._prepare(env)
                if all((self.workdir / p).is_file() and normalized((self.workdir / p).read_bytes()) == normalized(c)
                       for p, c in files.items()):
                    log.info("git publisher: %s@%s:%s unchanged, nothing to commit", shown_repo, self.branch, path)
                    return GitResult(repo=shown_repo, branch=self.branch, path=path, committed=False, pushed=False,
                                     reason="unchanged (identical ignoring generated_at and run_id)")
                for target, content in files.items():
                    atomic_write(self.workdir / target, content)
                self._git(env, "add", "--", *files)
                proc = subprocess.run(
                    ["git", "-c", "credential.helper=", "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-F", "-"],
                    cwd=self.workdir, env=env, input=full_message, capture_output=True, text=True, timeout=120,
                )
                if proc.returncode != 0:
                    raise GitPublishError(self._redact(f"git commit failed: {proc.stderr.strip() or proc.stdout.strip()}"))
                commit = self._git(env, "rev-parse", "HEAD").stdout.strip()
                push = self._git(env, "push", "--quiet", "--porcelain", "origin", f"HEAD:refs/heads/{self.branch}", check=False)
                if push.returncode == 0:
                    log.info("git publisher: committed %s to %s@%s:%s", commit[:12], shown_repo, self.branch, path)
                    return GitResult(repo=shown_repo, branch=self.branch, path=path, committed=True, pushed=True,
                                     commit=commit, reason="committed and pushed")
                error = self._redact(push.stderr.strip() or push.stdout.strip())
                rejected = "rejected" in error or "non-fast-forward" in error or "fetch first" in error
                if not rejected or attempt == self.max_push_attempts:
                    raise GitPublishError(f"git push failed: {error}")
                log.info("git publisher: push rejected (attempt %d), refetching: %s", attempt, error)
        raise GitPublishError("git push failed")  # pragma: no cover - the loop returns or raises
