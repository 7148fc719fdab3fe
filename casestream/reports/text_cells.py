"""Text as a document may hold it: XML 1.0 has no control characters, no U+FFFE / U+FFFF and
no lone surrogates (a case id or a department typed with one would make the file unreadable,
or fail to be written at all)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def plain(text: str) -> str:
    return _CONTROL.sub("", text)
