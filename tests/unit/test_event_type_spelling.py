"""The event catalog is the only place an event type is spelled: everywhere else the code names
the payload class (`ev.ComplaintResolved`, `type(payload)`, `Cls.__name__`), so a renamed or
misspelt event type fails at import or in mypy instead of silently matching nothing."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import casestream
import casestream.domain.catalog as catalog
from casestream.domain.catalog import PAYLOAD_TYPES, Payload

PACKAGE = Path(casestream.__file__).parent
BENCH = PACKAGE.parent / "bench"
CATALOG = "domain/catalog/"  # the one home of the names: the catalog package's modules

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
                if not in_catalog(name):
                    yield name, path


def in_catalog(name: str) -> bool:
    """`name` (as `checked_files` shows it) is a module of the catalog package itself."""
    return name.startswith(CATALOG) and "/" not in name.removeprefix(CATALOG)


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
    catalog = {"domain/catalog/__init__.py", "domain/catalog/shared.py"}
    catalog |= {f"domain/catalog/{kind}.py" for kind in ("complaints", "tips", "alerts")}
    assert all(in_catalog(name) for name in catalog) and not catalog & names
    # only the catalog's own modules: a namesake elsewhere is checked like any module
    assert not in_catalog("domain/catalog.py") and not in_catalog("api/domain/catalog/x.py")
    assert not in_catalog("domain/catalog/more/x.py") and not in_catalog(
        "bench/domain/catalog/x.py"
    )
    source = 'kind = "TipClosed"\nquery = "SELECT 1 WHERE event_type = \'JudgmentIssued\'"\n'
    assert list(spelt_event_types(source)) == [(1, "TipClosed"), (2, "JudgmentIssued")]
    assert list(spelt_event_types('"""A TipClosed closes the tip."""')) == []
    assert list(spelt_event_types("rule = 'starts_on = \"TipClosed\"'")) == []  # TOML data


def test_every_payload_class_of_the_catalog_modules_is_registered_by_its_name() -> None:
    defined = {
        cls
        for info in pkgutil.iter_modules(catalog.__path__)
        for _, cls in inspect.getmembers(
            importlib.import_module(f"{catalog.__name__}.{info.name}"), inspect.isclass
        )
        if issubclass(cls, Payload) and cls.__module__.startswith(catalog.__name__)
        if not cls.__name__.startswith("_") and cls.__name__ not in {"Payload", "CitesFiles"}
    }
    assert len(defined) == len(PAYLOAD_TYPES)
    assert {cls.__name__: cls for cls in defined} == PAYLOAD_TYPES
    assert all(getattr(catalog, name) is cls for name, cls in PAYLOAD_TYPES.items())
