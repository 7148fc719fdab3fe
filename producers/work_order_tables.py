"""Reading a work-order export (.xlsx, or .csv in UTF-8 or GBK/GB18030) into rows of text cells,
within bounds: file size, unpacked size, rows, columns, cell length."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm"})
TEXT_SUFFIXES = frozenset({".csv", ".txt"})
# control characters a cell may carry from the platform (NUL, ESC, vertical tab …) but no text
# means: dropped, as the database (NUL) and a terminal (ESC) would not take them as text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class TableLimits:
    """What an export may hold; past these the file (or the cell) is refused."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024  # an .xlsx is a zip: bounds what it unpacks to
    max_rows: int = 50_000
    max_columns: int = 200
    max_cell_chars: int = 10_000
    max_blank_rows: int = 10_000  # empty rows read past (a workbook may claim a million)


class TableError(ValueError):
    """A file that cannot be read as an export at all; the message names the fix."""


@dataclass(frozen=True)
class SheetRow:
    """One row of the sheet as text cells; `number` is the row number a spreadsheet shows.

    A cell longer than the limit is kept cut to one character past it, so that it is still
    recognised as too long without holding all of it."""

    number: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Sheet:
    """Every non-empty row of an export, and how its text was decoded (None for .xlsx)."""

    rows: tuple[SheetRow, ...]
    encoding: str | None


def read_export(path: Path, *, encoding: str | None, limits: TableLimits) -> Sheet:
    """The rows of the export at `path`, read by its suffix; TableError naming the fix."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise TableError(f"{path.name} is an Excel 97–2003 workbook: save it as .xlsx or .csv")
    if suffix not in SPREADSHEET_SUFFIXES | TEXT_SUFFIXES:
        raise TableError(f"{path.name}: expected an .xlsx or .csv export")
    try:
        with path.open("rb") as file:
            # read one byte past the bound whatever the file claims to hold: a pipe or a device
            # (a link to /dev/zero) has no size to check beforehand
            data = file.read(limits.max_file_bytes + 1)
    except IsADirectoryError as exc:
        raise TableError(f"{path} is a folder: give the export file inside it") from exc
    except OSError as exc:
        raise TableError(f"{path} cannot be read ({exc.strerror}): check the path") from exc
    if len(data) > limits.max_file_bytes:
        raise TableError(
            f"{path.name} has more than {limits.max_file_bytes} bytes: split the export"
        )
    if suffix in SPREADSHEET_SUFFIXES:
        return xlsx_sheet(data, limits=limits)
    return csv_sheet(data, encoding=encoding, limits=limits)


def decode_text(data: bytes, encoding: str | None) -> tuple[str, str]:
    """(text, the encoding it was read as): `encoding`, else UTF-8 (with or without BOM), else
    GB18030 (which reads GBK and GB2312), each strictly."""
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise TableError(f"unknown encoding {encoding!r}; e.g. utf-8, gbk, gb18030") from exc
        name = "utf-8-sig" if name == "utf-8" else name
        try:
            return data.decode(name), name
        except UnicodeDecodeError as exc:
            raise TableError(
                f"not valid {encoding} text at byte {exc.start}: give the file's own --encoding"
            ) from exc
    for name in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise TableError("neither UTF-8 nor GBK/GB18030 text: give its --encoding (e.g. big5)")


def csv_sheet(data: bytes, *, encoding: str | None, limits: TableLimits) -> Sheet:
    """The rows of a CSV export's bytes."""
    text, used = decode_text(data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = _bounded(enumerate(reader, start=1), limits)
    except csv.Error as exc:
        raise TableError(f"not a readable CSV file near line {reader.line_num}: {exc}") from exc
    return Sheet(rows, used)


def xlsx_sheet(data: bytes, *, limits: TableLimits) -> Sheet:
    """The rows of the first worksheet of an .xlsx export's bytes."""
    from openpyxl import load_workbook  # only this reader needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise TableError("not an .xlsx workbook: save the export as .xlsx or .csv") from exc
    if unpacked > limits.max_unpacked_bytes:
        raise TableError(
            f"the workbook unpacks to {unpacked} bytes, more than {limits.max_unpacked_bytes}: "
            "split the export"
        )
    # what a damaged or hand-made workbook raises, on opening or as its rows are read
    # (SyntaxError: XML that is not well formed)
    unreadable: tuple[type[BaseException], ...] = (
        *(InvalidFileException, KeyError, ValueError, TypeError, IndexError, OSError, EOFError),
        *(SyntaxError, zipfile.BadZipFile, zlib.error),
    )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unreadable as exc:
        raise TableError(_unreadable_workbook(exc)) from exc
    try:
        worksheet = workbook.worksheets[0]
        # one column past the limit, so that a wider row is seen without reading all of it
        cells = worksheet.iter_rows(max_col=limits.max_columns + 1, values_only=True)
        values = (
            (number, [_cell_text(value) for value in row] if any(row) else [])
            for number, row in enumerate(cells, start=1)
        )
        return Sheet(_bounded(values, limits), None)
    except TableError:
        raise
    except unreadable as exc:
        raise TableError(_unreadable_workbook(exc)) from exc
    finally:
        workbook.close()


def _unreadable_workbook(exc: BaseException) -> str:
    return (
        f"not a readable .xlsx workbook ({type(exc).__name__}): open it in Excel or WPS and "
        "save it again as .xlsx, or as .csv"
    )


def _bounded(
    numbered: Iterable[tuple[int, list[str]]], limits: TableLimits
) -> tuple[SheetRow, ...]:
    rows: list[SheetRow] = []
    for scanned, (number, row) in enumerate(numbered, start=1):
        if scanned > limits.max_rows + limits.max_blank_rows:
            raise TableError(f"more than {limits.max_rows} rows: split the export")
        cells = [_CONTROL.sub("", cell)[: limits.max_cell_chars + 1] for cell in row]
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        if len(cells) > limits.max_columns:
            raise TableError(
                f"row {number} has more than {limits.max_columns} columns: is this an export?"
            )
        if len(rows) > limits.max_rows:  # the header row comes on top of max_rows
            raise TableError(f"more than {limits.max_rows} rows: split the export")
        rows.append(SheetRow(number, tuple(cells)))
    return tuple(rows)


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))  # a number typed into a cell: 13812341234, not 13812341234.0
    return str(value)
