"""The rows every bench script writes with `--json PATH`, and how a row meets its target.

A row is one figure beside its baseline measured in the same run:

    {"figure": str, "value": float, "unit": str, "baseline": str | null,
     "baseline_value": float | null, "target": str | null, "met": bool | null}

`target` is either a ratio to the baseline ("≥ 4×": value / baseline_value ≥ 4) or a bound on
the value in its unit ("≤ 300 ms"). A script that knows the baseline's value sets `met`; when
the baseline is a figure of another script, `baseline_value` and `met` stay null and the suite
(bench/suite.py) fills them from that script's row of the same `figure` name.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

_TARGET = re.compile(r"^\s*(≥|>=|≤|<=)\s*([0-9.,]+)\s*(×|x)?")


@dataclass(frozen=True)
class Row:
    figure: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    target: str | None = None
    met: bool | None = None

    def judged(self) -> Row:
        """This row with `met` worked out from its target, where it can be."""
        if self.met is not None or self.target is None:
            return self
        met = meets(self.target, self.value, self.baseline_value)
        return Row(**{**asdict(self), "met": met})


def meets(target: str, value: float, baseline_value: float | None) -> bool | None:
    """Whether `value` meets `target` ("≥ 4×" against the baseline, or "≤ 300" in the unit)."""
    found = _TARGET.match(target)
    if found is None:
        return None
    sign, number, ratio = found.group(1), float(found.group(2).replace(",", "")), found.group(3)
    if ratio:
        if not baseline_value:
            return None
        value = value / baseline_value
    return value >= number if sign in ("≥", ">=") else value <= number


def write_rows(path: str | Path | None, rows: list[Row]) -> None:
    """Write the rows to `path` as a JSON list (nothing when `path` is None)."""
    if path is None:
        return
    Path(path).write_text(json.dumps([asdict(row.judged()) for row in rows], indent=2))


def read_rows(path: Path) -> list[Row]:
    return [Row(**item) for item in json.loads(path.read_text())]
