"""The console in a real browser: Debian's chromium through Playwright, pages in their own context,
screenshots where ``make screenshots`` wants them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Tests must not rewrite tracked files: docs/ only on request.
SHOTS = Path(os.environ.get("MPB_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="console-shots-"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def launch():
    """Yield a launched chromium (the ``browser`` fixture of tests/e2e/conftest.py)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: `make test` installs it (apt install chromium)")
        pytest.skip("Debian's chromium is not installed (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def new_page(browser):
    """A page in its own context: the office serves HTTPS with its own certificate (the browser
    warns once, as it will for the staff), and every Content-Security-Policy violation the page
    reports is kept in ``page.csp_violations`` (an inline style or script the policy blocks)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", ignore_https_errors=True)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page


def shot(page, name: str) -> None:
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)
