"""The accessibility check of the browser tests: axe-core (vendored under vendor/axe-core/)
injected into the page, run on the whole document."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
FAILING = frozenset({"critical"})
"""The impacts that fail a page; "serious" ones are named in the failure message too."""
REPORTED = FAILING | {"serious"}

RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str | None
    help: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        return f"[{self.impact}] {self.rule}: {self.help} ({', '.join(self.nodes)})"


def violations(page: Page) -> list[Violation]:
    """axe-core's violations on the page as it is now (needs a context with bypass_csp: the
    console's Content-Security-Policy allows no script)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_SOURCE)
    found = page.evaluate(RUN_AXE)
    return [
        Violation(item["rule"], item["impact"], item["help"], tuple(item["nodes"]))
        for item in found
    ]


def assert_accessible(page: Page) -> list[Violation]:
    """Fail on any critical violation, naming the serious ones too (alone, they are warned
    about: pytest's summary shows them); return every violation."""
    found = violations(page)
    listed = "\n".join(str(v) for v in found if v.impact in REPORTED)
    if any(violation.impact in FAILING for violation in found):
        raise AssertionError(f"accessibility violations on {page.url}:\n{listed}")
    if listed:
        warnings.warn(f"serious accessibility violations on {page.url}:\n{listed}", stacklevel=2)
    return found
