"""Real-browser tests of the web console: Debian's chromium (installed by
infra/chromium/install.sh when missing) driven headless by Playwright, against a `casestream
api` process on a SQLite read-model database (the console's pages need no Kafka).

One browser and one API serve every test of this folder; each test gets a new browser context
(its own cookies) and saves a full-page screenshot of each page it visits under
test-artifacts/screenshots/<test name>/<n>-<page>.png (that folder is emptied when the test
starts, so it shows the latest run).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, ViewportSize, expect, sync_playwright

from tests.auth import auth_env
from tests.conftest import ROOT, Database
from tests.processes import Process, clean_env, free_port, wait_until_answers

INSTALL = ROOT / "infra" / "chromium" / "install.sh"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}


@dataclass(frozen=True)
class Staff:
    """A staff account the tests' API knows, as `casestream user add` made it."""

    username: str
    role: str
    department: str | None
    password: str


HANDLER = Staff("li.ming", "handler", "治安大队", "correct horse battery")
LOCKED = Staff("suo.ding", "handler", "户政大队", "another long password")  # only the lock-out test
LEGAL = Staff("fa.zhi", "legal", None, "legal desk password")
ACCOUNTS = (HANDLER, LOCKED, LEGAL)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The chromium binary, installing Debian's package on a fresh machine (as root); when that
    fails every browser test fails with the script's message."""
    done = subprocess.run(
        ["bash", str(INSTALL)], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        pytest.fail(
            f"{INSTALL.relative_to(ROOT)} failed (exit {done.returncode}):\n{done.stderr}",
            pytrace=False,
        )
    return done.stdout.strip().splitlines()[-1]


def add_account(env: dict[str, str], staff: Staff) -> None:
    """`casestream user add`, as an operator would run it."""
    args = ["user", "add", staff.username, "--role", staff.role, "--password-stdin"]
    if staff.department is not None:
        args += ["--department", staff.department]
    done = subprocess.run(
        [sys.executable, "-m", "casestream.cli", *args],
        env=env,
        input=f"{staff.password}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def sqlite_env(tmp: Path, name: str = "console.db", **settings: str) -> dict[str, str]:
    """The environment of a `casestream api` on a SQLite file under `tmp` (no Kafka)."""
    return clean_env(**Database(f"sqlite:///{tmp / name}", None).env(), **auth_env(), **settings)


@contextmanager
def api_process(tmp: Path, env: dict[str, str], accounts: Iterable[Staff]) -> Iterator[str]:
    """A `casestream api` process with `env` (plus its own port and var folder under `tmp`)
    that knows `accounts`, added as an operator would: its address, until the block ends."""
    port = free_port()
    env = {**env, "CASESTREAM_API_PORT": str(port), "CASESTREAM_VAR_DIR": str(tmp / "var")}
    for staff in accounts:
        add_account(env, staff)
    server = Process(["api"], env, tmp / "api.log")

    def alive() -> None:
        if server.popen.poll() is not None:
            raise AssertionError(f"casestream api exited:\n{server.output()}")

    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(url, check=alive)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="package")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a `casestream api` process (no Kafka) that knows the ACCOUNTS."""
    tmp = tmp_path_factory.mktemp("browser")
    with api_process(tmp, sqlite_env(tmp), ACCOUNTS) as url:
        yield url


def sign_in_as(visit: Visit, staff: Staff, url: str = "") -> None:
    """Sign in with the form, landing on the 工作台 (`url`: another API than base_url's)."""
    page = visit.page
    visit.goto(f"{url}/console/signin", "signin")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill(staff.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Browser]:
    """One headless chromium for every test of this folder (package scope: it is closed
    before the rest of the suite, whose asyncio tests must not meet Playwright's loop)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield launched
        launched.close()


@dataclass
class Visit:
    """A test's browser tab, and the screenshots of the pages it visits."""

    page: Page
    folder: Path
    taken: list[Path] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot of the current page as <n>-<name>.png."""
        path = self.folder / f"{len(self.taken) + 1}-{name}.png"
        self.page.screenshot(path=path, full_page=True)
        self.taken.append(path)
        return path

    def goto(self, path: str, name: str) -> Response:
        """Open `path` (relative to the API), wait for it to load and screenshot it."""
        answer = self.page.goto(path)
        assert answer is not None
        self.shot(name)
        return answer


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def visit(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Visit]:
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    context = browser.new_context(
        base_url=base_url,
        viewport=VIEWPORT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        # The console's pages send a Content-Security-Policy without script-src (they run no
        # script), which would block the axe-core <script> the accessibility check injects.
        bypass_csp=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    opened = Visit(page, folder)
    try:
        yield opened
        if request.node.stash.get(FAILED, False):
            opened.shot("failed")
    finally:
        context.close()
