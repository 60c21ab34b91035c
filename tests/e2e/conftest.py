"""Browser tests: Playwright for Python driving Debian's chromium (never a downloaded browser)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "e2e"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots of each step, in test-artifacts/e2e/<test>/."""

    def __init__(self, page: object, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def take(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path


CSP_VIOLATION = ("Content Security Policy", "Content-Security-Policy")


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser page; the test fails if the site's Content-Security-Policy blocked anything on it."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15000)
    page.shots = Shots(page, ARTIFACTS / request.node.name)
    violations: list[str] = []
    page.csp_violations = violations
    page.on("console", lambda message: _record_csp_violation(message, violations))
    yield page
    context.close()
    if violations:
        pytest.fail("the Content-Security-Policy blocked something:\n" + "\n".join(violations))


def _record_csp_violation(message: object, violations: list[str]) -> None:
    text = str(message.text)  # type: ignore[attr-defined]
    if any(marker in text for marker in CSP_VIOLATION):
        violations.append(text)
