"""Browser tests: Debian's chromium driven by Playwright for Python, checked with axe-core.

Every test in this folder is marked `browser`. Chromium is never downloaded (no
`playwright install`): the system's /usr/bin/chromium is used. When it is absent the tests are
skipped locally, but they fail when the CI environment variable is set, so CI cannot skip them
silently.

Why the browser is package-scoped rather than session-scoped: while Playwright's sync API runs,
it keeps an asyncio event loop running in the main thread. A browser living for the whole
session would leave that loop running for every later test of the same xdist worker (Django's
ORM would refuse to run, `asyncio.run` would fail). Package scope lets pytest stop Playwright as
soon as a worker moves on to a test outside this folder; relaunching costs about a second.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail

from mes.conftest import PASSWORD
from mes.identity.models import Citizen

CHROMIUM = os.environ.get("MES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
BLOCKING_IMPACTS = {"serious", "critical"}
TIMEOUT_MS = 10_000
LOGIN_BUTTON = "Recevoir mon code de connexion"
CODE_LABEL = re.compile(r"^Code de connexion")
CODE_BUTTON = "Valider et me connecter"

# axe judges colours as they are at the instant it runs: let CSS transitions (a button changing
# colour as a menu opens) end first. Endless animations are not waited for, nor longer than 2 s.
SETTLE_ANIMATIONS = """() => Promise.race([
  Promise.all(document.getAnimations()
    .filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
    .map(a => a.finished.catch(() => null))),
  new Promise(resolve => setTimeout(resolve, 2000)),
])"""

# No horizontal scrolling, and every control on screen (issue 8): the page is no wider than the
# window, and no visible link, button or field lies beyond its left or right edge, unless it sits
# in a container made to scroll sideways. Hidden controls (the skip link, closed menus) are not
# counted.
LAYOUT_PROBLEMS = r"""() => {
  const width = window.innerWidth;
  const problems = [];
  const scrollWidth = document.scrollingElement.scrollWidth;
  if (scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${scrollWidth} px > ${width} px`);
  }
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(controls)) {
    if (el.closest('.skip-link, .visually-hidden, [hidden]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if ((r.left < -1 || r.right > width + 1) && !scrolls(el)) {
      problems.push(`off screen (${Math.round(r.left)}..${Math.round(r.right)} px): `
        + el.outerHTML.replace(/\s+/g, ' ').slice(0, 140));
    }
  }
  return problems;
}"""

AXE = Axe()  # reads the axe.min.js shipped with axe-playwright-python once
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[3] / "test-output" / "screenshots"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def _chromium_or_skip() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if path:
        return path
    reason = (
        f"Debian's chromium is not installed ({CHROMIUM} not found): "
        "apt-get install -y chromium (never `playwright install`)"
    )
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    # Playwright's loop runs in this thread while the browser lives; the test code (and the
    # database teardown) call Django's ORM synchronously meanwhile, which is safe here.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    """A fresh browser context (no cookies) at desktop size.

    The test fails on any JavaScript error, console error (a blocked script or style, a failed
    asset) and on any request leaving the application: every asset is served by ourselves, a
    health service leaks no page view to a third party (DESIGN.md §2).
    """
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"JavaScript error: {exc}"))

    expected: set[str] = set()
    pg.mes_expected_error_pages = expected  # see expect_error_page()

    def on_console(msg: Any) -> None:
        url = (msg.location or {}).get("url", "")
        # Chromium asks for /favicon.ico on its own; its absence is not a page defect.
        if msg.type != "error" or url.endswith("/favicon.ico"):
            return
        # An error page the test asked for (404, 405...) is not a defect either.
        if "Failed to load resource" in msg.text and urlsplit(url).path in expected:
            return
        errors.append(f"console error: {msg.text} ({url})")

    pg.on("console", on_console)

    def on_request(request: Any) -> None:
        if not request.url.startswith((live_server.url, "data:", "blob:")):
            errors.append(f"request to a third party: {request.method} {request.url}")

    pg.on("request", on_request)
    yield pg
    context.close()
    assert not errors, "The browser reported errors:\n" + "\n".join(errors)


def expect_error_page(page: Any, path: str) -> None:
    """The next visit of `path` answers an error status on purpose (an error page under test):
    the browser's « Failed to load resource » for it is not reported as a defect."""
    page.mes_expected_error_pages.add(path)


def login_code_for(citizen: Citizen) -> str:
    """The last one-time code e-mailed to the citizen (locmem backend in tests)."""
    for message in reversed(mail.outbox):
        if citizen.email in message.to or (citizen.user and citizen.user.email in message.to):
            found = re.search(rf"\b(\d{{{settings.MES_OTP_DIGITS}}})\b", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"No one-time code was e-mailed to {citizen.email}: {mail.outbox!r}")


def submit_password(page: Any, *, username: str | None = None) -> None:
    """Step 1 of the login; with a username, fill both fields with the cast's password first."""
    if username is not None:
        page.get_by_label("Identifiant").fill(username)
        page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=LOGIN_BUTTON).click()


def submit_login_code(page: Any, code: str | None = None) -> None:
    """Step 2 of the login; with a code, type it first."""
    if code is not None:
        page.get_by_label(CODE_LABEL).fill(code)
    page.get_by_role("button", name=CODE_BUTTON).click()


def login(page: Any, live_server: Any, user: Citizen) -> None:
    """The real two-step login: identifiant + mot de passe, then the code received by e-mail."""
    assert user.user is not None, "this citizen has no account"
    page.goto(f"{live_server.url}/connexion/")
    submit_password(page, username=user.user.username)
    page.wait_for_url("**/connexion/code/")
    submit_login_code(page, login_code_for(user))
    page.wait_for_url(lambda url: "/connexion/" not in url)


def _describe(violation: dict[str, Any]) -> str:
    nodes = violation.get("nodes", [])
    lines = [
        f"- [{violation.get('impact')}] {violation.get('id')}: {violation.get('help')} "
        f"({len(nodes)} element(s)) {violation.get('helpUrl', '')}"
    ]
    for node in nodes[:5]:
        target = " ".join(str(t) for t in node.get("target", []))
        html = re.sub(r"\s+", " ", node.get("html", ""))[:160]
        summary = re.sub(r"\s+", " ", node.get("failureSummary", ""))[:240]
        lines.append(f"    at {target}: {html}\n      {summary}")
    return "\n".join(lines)


def layout_problems(page: Any) -> list[str]:
    """Sideways scrolling and controls beyond the window's edges, at the current size."""
    return list(page.evaluate(LAYOUT_PROBLEMS))


def check_a11y(page: Any, name: str) -> None:
    """Run axe at desktop and phone widths and fail on serious or critical violations, on a
    page that scrolls sideways, or on a control off screen (LAYOUT_PROBLEMS).

    Saves full-page screenshots as test-output/screenshots/<name>.png (desktop, 1280x900) and
    <name>-phone.png (390x844), handy to review a page's layout after a run.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe = AXE
    original = page.viewport_size or DESKTOP
    found: dict[tuple[str, str], dict[str, Any]] = {}
    layout: list[str] = []
    try:
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.evaluate(SETTLE_ANIMATIONS)
            layout += [f"({label}) {problem}" for problem in layout_problems(page)]
            results = axe.run(page)
            for violation in results.response.get("violations", []):
                if violation.get("impact") in BLOCKING_IMPACTS:
                    found.setdefault((violation["id"], label), violation)
            suffix = "" if label == "desktop" else "-phone"
            page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True)
    finally:
        page.set_viewport_size(original)
    if layout:
        pytest.fail(
            f"{name} ({page.url}) does not fit the window:\n" + "\n".join(layout[:10]),
            pytrace=False,
        )
    if found:
        report = "\n".join(f"({label}) {_describe(v)}" for (_, label), v in found.items())
        pytest.fail(
            f"axe found {len(found)} serious or critical violation(s) on {name} "
            f"({page.url}):\n{report}",
            pytrace=False,
        )
