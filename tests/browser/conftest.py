"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright. Never `playwright install`."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CCMATRIX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _ensure_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"{CHROMIUM} is missing and cannot be installed here (apt-get install -y chromium needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(["apt-get", "install", "-y", "chromium"], env=env, capture_output=True, text=True)
    if result.returncode != 0:  # a stale package index: refresh once and retry
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
        result = subprocess.run(["apt-get", "install", "-y", "chromium"], env=env, capture_output=True, text=True)
    if result.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(f"apt-get install -y chromium failed: {result.stderr[-2000:]}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = _ensure_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def open_page(browser, tmp_path):
    """open_page(html, viewport=..., timezone_id=...) -> (page, requests): the page loaded from a file:// URL,
    with every non-file request aborted and recorded (the page must need no network)."""
    contexts = []

    def _open(html: str, *, width: int = 1280, height: int = 800, timezone_id: str = "UTC", locale: str = "en-US"):
        path = tmp_path / f"page-{len(contexts)}.html"
        path.write_text(html, encoding="utf-8")
        context = browser.new_context(
            viewport={"width": width, "height": height}, timezone_id=timezone_id, locale=locale
        )
        contexts.append(context)
        requests: list[str] = []
        errors: list[str] = []

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                requests.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        page.js_errors = errors
        return page, requests

    yield _open
    for context in contexts:
        context.close()
