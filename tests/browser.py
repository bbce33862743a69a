"""The workspace in a real browser: Debian's Chromium driven by Playwright, one browser per test process."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e_support import BotProcess, Resident

CHROMIUM = "/usr/bin/chromium"
# This machine has no network and runs tests as root (../shared/WORKSPACE.md).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SIGNIN_LINK = re.compile(r"(https?://\S+/signin/[A-Za-z0-9_-]+)")


def start_chromium(profile: Path) -> Iterator[str]:
    """One headless Chromium for the test process; yields its DevTools address.

    The process's browser tests share one Playwright connected to it (`connect`; the `connected` fixture in
    conftest.py says how asyncio tests run between them), each test in browser contexts of its own.
    """
    process = subprocess.Popen(
        [CHROMIUM, "--headless", "--remote-debugging-port=0", f"--user-data-dir={profile}", *CHROMIUM_FLAGS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("DevTools listening on "):
                address = line.split(" on ", 1)[1].strip()
                break
        else:
            raise AssertionError(f"Chromium did not start (exit status {process.wait()})")
        # Keep reading what Chromium says, so it never blocks on a full pipe.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def connect(address: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(address)
        try:
            yield browser
        finally:
            browser.close()


def signin_link(officer: Resident) -> str:
    """What an officer gets from /workspace in the chat: the one-time link."""
    reply = officer.say("/workspace", expect="/signin/")
    found = SIGNIN_LINK.search(reply.text)
    assert found, reply.text
    return found.group(1)


def sign_in(page: Page, officer: Resident) -> None:
    """Sign in as an officer does: /workspace in the chat, open the link, press Sign in."""
    page.goto(signin_link(officer))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> None:
    """Kept as a test artifact (not committed) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def workspace(bot: BotProcess, path: str = "/") -> str:
    return bot.web_url + path


def serious_accessibility_problems(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each.

    axe-core is put into a page once (a second check of the same page, at another width say, reuses it), and
    the page sends back only these lines: axe's whole answer took longer to pass to the test than to make.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    found: list[str] = page.evaluate(
        """async () => {
        const results = await axe.run(document, {resultTypes: ["violations"]});
        return results.violations
            .filter(violation => violation.impact === "serious" || violation.impact === "critical")
            .map(violation => `${violation.id} (${violation.impact}): ${violation.help} at `
                + violation.nodes.map(node => JSON.stringify(node.target)).join(", "));
    }"""
    )
    return found


def off_screen(page: Page) -> list[str]:
    """What a person cannot use without scrolling sideways at the window's width (a phone's 375 pixels): each
    button, link or form control of the page's main part that starts or ends off-screen (in a table that
    scrolls sideways, say). [] is usable. A wide table of figures alone may scroll: it has nothing to press."""
    found: list[str] = page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth, found = [];
        const pressable = "main button, main a, main select, main textarea, main input:not([type=hidden])";
        for (const el of document.querySelectorAll(pressable)) {
            const box = el.getBoundingClientRect();
            if (box.width && (box.right > width + 1 || box.left < -1)) {
                found.push(`${el.tagName} "${(el.innerText || el.name || "").trim()}"`);
            }
        }
        return found;
    }"""
    )
    return found
