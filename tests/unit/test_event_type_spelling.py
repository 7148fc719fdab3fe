"""The event catalog is the only place an event type is spelled: everywhere else the code names
the payload class (`ev.ComplaintResolved`, `type(payload)`, `Cls.__name__`), so a renamed or
misspelt event type fails at import or in mypy instead of silently matching nothing."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import casestream
from casestream.domain.catalog import PAYLOAD_TYPES

PACKAGE = Path(casestream.__file__).parent
BENCH = PACKAGE.parent / "bench"
CATALOG = "domain/catalog.py"  # the one home of the names

# tests/ is outside the package and never checked: tests post raw events as outsiders do.

# an event type as an SQL string literal inside raw SQL text (event_type = 'X'); rule and
# webhook TOML quoted in docstrings (double quotes) is data a deployment writes, not code
_SQL_LITERAL = re.compile("'(" + "|".join(sorted(PAYLOAD_TYPES)) + ")'")


def spelt_event_types(source: str) -> Iterator[tuple[int, str]]:
    """(line, event type) for each string constant of `source` that spells an event type."""
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if node.value in PAYLOAD_TYPES:
            yield node.lineno, node.value
        else:
            for found in _SQL_LITERAL.finditer(node.value):
                yield node.lineno, found.group(1)


def checked_files() -> Iterator[tuple[str, Path]]:
    """(name shown, path) of every module checked: the package (its linked folders followed)
    and the benchmarks."""
    for root, label in ((PACKAGE, ""), (BENCH, "bench/")):
        for folder, _, files in os.walk(root, followlinks=True):
            for file in sorted(files):
                if not file.endswith(".py"):
                    continue
                path = Path(folder) / file
                name = label + path.relative_to(root).as_posix()
                if name != CATALOG:
                    yield name, path


def test_no_module_outside_the_catalog_spells_an_event_type() -> None:
    found = [
        f"{name}:{line}: {event_type!r}"
        for name, path in checked_files()
        for line, event_type in spelt_event_types(path.read_text(encoding="utf-8"))
    ]
    assert not found, "name the payload class instead:\n" + "\n".join(found)


def test_the_check_reads_the_whole_package_and_finds_a_spelt_name_and_one_in_sql() -> None:
    names = {name for name, _ in checked_files()}
    assert {"domain/outcomes.py", "read_models/projection.py", "bench/timers.py"} <= names
    assert CATALOG not in names
    source = 'kind = "TipClosed"\nquery = "SELECT 1 WHERE event_type = \'JudgmentIssued\'"\n'
    assert list(spelt_event_types(source)) == [(1, "TipClosed"), (2, "JudgmentIssued")]
    assert list(spelt_event_types('"""A TipClosed closes the tip."""')) == []
    assert list(spelt_event_types("rule = 'starts_on = \"TipClosed\"'")) == []  # TOML data
