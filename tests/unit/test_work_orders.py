"""Work-order exports through a mapping: rows become the events of each work order, or errors
naming row and column; the same export gives the same ids every time."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from casestream.cli import app
from casestream.domain.envelope import Event
from casestream.domain.plausibility import DateWindow
from casestream.producers.work_order_mapping import MappingError, load_mapping, parse_mapping
from casestream.producers.work_order_tables import (
    Sheet,
    TableError,
    TableLimits,
    csv_sheet,
    decode_text,
    read_export,
    xlsx_sheet,
)
from casestream.producers.work_orders import RowOutcome, locate_columns, map_rows
from tests.fixtures.make_work_order_exports import (
    CSV_ROWS,
    HEADERS,
    XLSX,
    XLSX_ROWS,
    Cell,
    csv_bytes,
    xlsx_bytes,
)

MAPPING = load_mapping("12345")
NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
LIMITS = TableLimits()


def _outcomes(
    sheet: Sheet, *, now: datetime = NOW, max_cell_chars: int = 10_000
) -> list[RowOutcome]:
    layout = locate_columns(sheet, MAPPING)
    return list(
        map_rows(
            sheet,
            layout,
            MAPPING,
            now=now,
            timezone="Asia/Shanghai",
            window=DateWindow(),
            max_cell_chars=max_cell_chars,
        )
    )


def _events(outcomes: list[RowOutcome]) -> list[Event[Any]]:
    return [event for outcome in outcomes for event in outcome.events]


def _row(number: str, **cells: Cell) -> tuple[Cell, ...]:
    """A row of the sample headers: a good, open work order, with `cells` by header."""
    good: dict[str, Cell] = {
        "序号": 1,
        "工单编号": number,
        "来电时间": "2026-10-12 09:30",
        "来电人": "张先生",
        "联系电话": "13812341234",
        "诉求类型": "投诉举报",
        "是否涉企": "否",
        "诉求内容": "占道经营",
        "承办单位": "执法二队",
    }
    good.update(cells)
    return tuple(good.get(header.replace("\n", "")) for header in HEADERS)


def test_an_xlsx_export_yields_each_work_orders_lifecycle_in_order() -> None:
    outcomes = _outcomes(xlsx_sheet(xlsx_bytes(XLSX_ROWS[:1]), limits=LIMITS))

    [outcome] = outcomes
    assert outcome.row == 3  # the title row, then the headers
    assert outcome.case_id == "12345-GD202610120001" and not outcome.errors
    received, accepted, assigned, replied, resolved, visited = outcome.events
    assert [event.event_type for event in outcome.events] == [
        "ComplaintReceived",
        "ComplaintAccepted",
        "ComplaintAssigned",
        "ComplaintReplied",
        "ComplaintResolved",
        "ComplaintFollowUpVisited",
    ]
    assert received.occurred_at == datetime(2026, 10, 12, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    assert received.payload.channel == "hotline_12345"
    assert received.payload.enterprise is True
    assert received.payload.work_order_no == "GD202610120001"
    assert received.payload.complainant.phone == "13812341234"  # a number cell, read as digits
    assert received.payload.subject == "超市销售过期食品"
    assert accepted.payload.department == assigned.payload.department == "执法大队"  # translated
    assert replied.payload.reply == "已责令下架并立案调查。"
    assert resolved.payload.outcome == "substantiated"
    assert visited.payload.satisfaction == 5
    assert visited.occurred_at == datetime(2026, 10, 16, 2, 0, tzinfo=UTC)
    assert {event.source for event in outcome.events} == {"hotline_12345"}


def test_gbk_utf8_and_utf8_with_bom_exports_read_alike() -> None:
    sheets = {
        encoding: csv_sheet(
            csv_bytes(CSV_ROWS[:2], encoding=encoding), encoding=None, limits=LIMITS
        )
        for encoding in ("gbk", "utf-8", "utf-8-sig")
    }

    assert {name: sheet.encoding for name, sheet in sheets.items()} == {
        "gbk": "gb18030",
        "utf-8": "utf-8-sig",
        "utf-8-sig": "utf-8-sig",
    }
    events = {name: _events(_outcomes(sheet)) for name, sheet in sheets.items()}
    assert len(events["gbk"]) == 8
    assert events["gbk"][0].payload.description == "小区门口流动摊贩占道经营。"
    dumped = {
        name: [event.model_dump(exclude={"recorded_at"}) for event in found]
        for name, found in events.items()
    }
    assert dumped["gbk"] == dumped["utf-8"] == dumped["utf-8-sig"]


def test_an_encoding_given_is_used_and_a_wrong_one_is_named() -> None:
    data = "工单编号\nGD1\n".encode("gbk")
    assert decode_text(data, "gbk") == ("工单编号\nGD1\n", "gbk")
    with pytest.raises(TableError, match="not valid utf-8 text at byte 0"):
        decode_text(data, "utf-8")
    with pytest.raises(TableError, match="unknown encoding"):
        decode_text(data, "klingon")
    with pytest.raises(TableError, match="--encoding"):
        decode_text(b"\xff\xff\xff", None)


def test_the_same_export_gives_the_same_ids_whenever_it_is_read() -> None:
    sheet = xlsx_sheet(xlsx_bytes(XLSX_ROWS), limits=LIMITS)
    first = _events(_outcomes(sheet))
    later = _events(_outcomes(sheet, now=NOW + timedelta(days=3)))

    assert [event.event_id for event in first] == [event.event_id for event in later]
    assert len({event.event_id for event in first}) == len(first)
    assert [event.case_id for event in first] == [event.case_id for event in later]


def test_a_later_export_repeats_the_ids_of_what_it_repeats_and_adds_what_is_new() -> None:
    first = _events(_outcomes(xlsx_sheet(xlsx_bytes(XLSX_ROWS[1:2]), limits=LIMITS)))
    later = _events(_outcomes(csv_sheet(csv_bytes(CSV_ROWS[:1]), encoding=None, limits=LIMITS)))

    assert [event.event_type for event in first] == [
        "ComplaintReceived",
        "ComplaintAccepted",
        "ComplaintAssigned",
    ]
    assert {event.event_id for event in first} < {event.event_id for event in later}
    known = {event.event_id for event in first}
    new = sorted(event.event_type for event in later if event.event_id not in known)
    assert new == ["ComplaintReplied", "ComplaintResolved"]


def test_a_handover_to_another_unit_in_a_later_export_is_a_new_assignment() -> None:
    before = _events(_outcomes(csv_sheet(csv_bytes((_row("GD9"),)), encoding=None, limits=LIMITS)))
    after = _events(
        _outcomes(
            csv_sheet(csv_bytes((_row("GD9", 承办单位="执法一队"),)), encoding=None, limits=LIMITS)
        )
    )

    ids = {event.event_type: event.event_id for event in before}
    moved = {event.event_type: event.event_id for event in after}
    assert moved["ComplaintReceived"] == ids["ComplaintReceived"]
    assert moved["ComplaintAssigned"] != ids["ComplaintAssigned"]


def test_bad_rows_are_refused_naming_row_and_column_and_good_rows_are_kept() -> None:
    hostile = "投诉" * 6000  # 12,000 characters
    rows = (
        _row("GD1"),
        _row(""),
        _row("GD3", 来电时间="2026-13-45 25:61"),
        _row("GD4", 回访满意度="还行吧", 办结时间="2026-10-20 10:00"),
        _row("GD5", 诉求内容=hostile),
        _row("GD6", 来电时间="1900-01-01 08:00"),
        _row("GD7", 联系电话="call me maybe"),
        _row("GD1"),
        _row("GD8"),
    )
    outcomes = _outcomes(csv_sheet(csv_bytes(rows), encoding=None, limits=LIMITS))

    assert [outcome.row for outcome in outcomes if outcome.events] == [2, 10]
    errors = {(error.row, error.column): error.reason for o in outcomes for error in o.errors}
    assert set(errors) == {
        (3, "工单编号"),
        (4, "来电时间"),
        (5, "回访满意度"),
        (6, "诉求内容"),
        (7, "来电时间"),
        (8, "联系电话"),
        (9, "工单编号"),
    }
    assert errors[3, "工单编号"].startswith("empty")
    assert "not a date and time: '2026-13-45 25:61'" in errors[4, "来电时间"]
    assert "unknown word '还行吧'" in errors[5, "回访满意度"]
    assert "[translations.satisfaction.values]" in errors[5, "回访满意度"]
    assert errors[6, "诉求内容"] == "longer than 10000 characters: shorten the cell"
    assert "must lie between 1990-01-01" in errors[7, "来电时间"]
    assert errors[9, "工单编号"].startswith("the same work-order number as row 2")
    assert all(len(reason) < 300 for reason in errors.values())  # a hostile cell is not echoed


def test_control_characters_in_cells_are_dropped_so_every_fact_can_be_stored() -> None:
    # a NUL is no text to the read-model database: the acceptance would be dead-lettered
    rows = (
        _row(
            "GD\x001", 承办单位="执法\x00二队", 诉求内容="占道\x1b[31m经营\x0b", 来电人="张\x7f先生"
        ),
    )
    [outcome] = _outcomes(csv_sheet(csv_bytes(rows), encoding=None, limits=LIMITS))

    assert not outcome.errors and outcome.case_id == "12345-GD1"
    payloads = {event.event_type: event.payload for event in outcome.events}
    assert payloads["ComplaintAccepted"].department == "执法二队"
    assert payloads["ComplaintReceived"].description == "占道[31m经营"
    assert payloads["ComplaintReceived"].complainant.name == "张先生"


def test_a_long_unknown_word_is_quoted_by_its_start_only() -> None:
    rows = (_row("GD1", 回访满意度="不" * 500, 办结时间="2026-10-20 10:00"),)
    [outcome] = _outcomes(csv_sheet(csv_bytes(rows), encoding=None, limits=LIMITS))

    [error] = outcome.errors
    assert "(500 characters)" in error.reason and "不" * 31 not in error.reason


def test_an_export_without_a_required_column_or_a_header_row_is_refused_whole() -> None:
    without_time = tuple(header for header in HEADERS if header != "来电时间")
    sheet = csv_sheet(csv_bytes((), without_time), encoding=None, limits=LIMITS)
    with pytest.raises(TableError, match=r"lacks the column.*来电时间 or 受理时间"):
        locate_columns(sheet, MAPPING)
    nothing = csv_sheet(b"a,b\n1,2\n", encoding=None, limits=LIMITS)
    with pytest.raises(TableError, match="工单编号 or 工单号"):
        locate_columns(nothing, MAPPING)


def test_headers_the_mapping_does_not_read_are_listed() -> None:
    headers = (*HEADERS, "来电号码归属地", "坐席工号")
    layout = locate_columns(
        csv_sheet(csv_bytes((), headers), encoding=None, limits=LIMITS), MAPPING
    )
    assert layout.unmapped == (
        "坐席工号",
    )  # 序号, 办理时限 and 来电号码归属地 are ignored on purpose
    assert "承办人" in layout.missing


def test_exports_past_the_bounds_are_refused_naming_the_fix() -> None:
    small = TableLimits(max_rows=3, max_columns=20, max_unpacked_bytes=4000)
    rows = tuple(_row(f"GD{n}") for n in range(5))
    with pytest.raises(TableError, match="more than 3 rows: split the export"):
        csv_sheet(csv_bytes(rows), encoding=None, limits=small)
    with pytest.raises(TableError, match="more than 20 columns"):
        csv_sheet(",".join("x" * 21).encode(), encoding=None, limits=small)
    with pytest.raises(TableError, match=r"unpacks to \d+ bytes"):
        xlsx_sheet(xlsx_bytes(rows[:2]), limits=small)
    with pytest.raises(TableError, match=r"not an \.xlsx workbook"):
        xlsx_sheet(b"PK but not a zip", limits=LIMITS)


def test_a_folder_or_a_device_named_like_an_export_is_refused_naming_the_fix(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "12345.csv"
    folder.mkdir()
    with pytest.raises(TableError, match="is a folder: give the export file inside it"):
        read_export(folder, encoding=None, limits=LIMITS)
    endless = tmp_path / "endless.csv"
    endless.symlink_to("/dev/zero")  # claims 0 bytes, holds ever more
    with pytest.raises(TableError, match="more than 1000 bytes: split the export"):
        read_export(endless, encoding=None, limits=TableLimits(max_file_bytes=1000))


def test_a_workbook_whose_sheet_is_not_well_formed_xml_is_refused_naming_the_fix() -> None:
    archive = zipfile.ZipFile(io.BytesIO(xlsx_bytes((_row("GD1"),))))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as out:
        for entry in archive.infolist():
            data = archive.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"GD1", b"&undeclared;")  # an entity nobody declared
            out.writestr(entry, data)
    with pytest.raises(TableError, match=r"not a readable \.xlsx workbook.*save it again"):
        xlsx_sheet(damaged.getvalue(), limits=LIMITS)


def test_a_workbook_claiming_a_million_rows_is_refused_after_reading_few() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["工单编号"])
    sheet.cell(row=1_000_000, column=1, value="GD1")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(TableError, match="more than 3 rows"):
        xlsx_sheet(buffer.getvalue(), limits=TableLimits(max_rows=3, max_blank_rows=10))


def test_a_cell_is_kept_only_to_just_past_the_limit() -> None:
    sheet = csv_sheet(("工单编号\n" + "9" * 50_000 + "\n").encode(), encoding=None, limits=LIMITS)
    assert len(sheet.rows[1].cells[0]) == LIMITS.max_cell_chars + 1


def test_a_mapping_that_does_not_fit_the_catalog_is_refused_naming_the_key(tmp_path: Path) -> None:
    text = """
name = "bad"
source = "x"
case_id_prefix = "X-"
number_column = "number"
[columns]
number = { header = "编号" }
at = { header = "时间", type = "datetime" }
[[events]]
type = "ComplaintReceivd"
at = "at"
[[events]]
type = "SupervisionClosed"
at = "at"
[[events]]
type = "ComplaintAccepted"
at = "number"
when = ["dept"]
"""
    with pytest.raises(MappingError) as refused:
        parse_mapping(text, origin="bad.toml")
    said = str(refused.value)
    assert "no event type 'ComplaintReceivd'" in said
    assert "SupervisionClosed is not a fact from outside" in said
    assert "'number' is not a datetime column" in said
    assert "'dept' is not a name in [columns]" in said
    with pytest.raises(MappingError, match="one of: 12345"):
        load_mapping(str(tmp_path / "missing.toml"))
    with pytest.raises(MappingError, match="not valid TOML"):
        parse_mapping("name = ", origin="x.toml")


def test_a_mapping_file_is_loaded_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    packaged = Path(__file__).resolve().parents[2] / "producers" / "mappings" / "hotline_12345.toml"
    path.write_text(
        packaged.read_text(encoding="utf-8").replace('"12345-"', '"HOT-"'), encoding="utf-8"
    )
    assert load_mapping(str(path)).case_id_prefix == "HOT-"


def test_the_dry_run_reports_what_would_be_sent_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASESTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # never reached
    result = CliRunner().invoke(app, ["import", str(XLSX), "--mapping", "12345", "--dry-run"])

    assert result.exit_code == 1  # one row refused
    assert (
        "would send 15 events of 3 work orders (ComplaintAccepted 3, ComplaintAssigned 3, "
        "ComplaintFollowUpVisited 2, ComplaintReceived 3, ComplaintReplied 2, "
        "ComplaintResolved 2); 1 of 4 rows not imported"
    ) in result.stdout
    assert (
        "12345-2026-10.xlsx:row 6: 来电时间: ComplaintReceived: must lie between" in result.stderr
    )


def test_encoding_and_dry_run_without_a_mapping_name_the_fix() -> None:
    result = CliRunner().invoke(app, ["import", str(XLSX), "--dry-run"])
    assert result.exit_code == 2 and "add --mapping" in result.stderr


def test_every_key_of_a_mapping_is_described_in_import_md() -> None:
    from casestream.producers.work_order_mapping import (
        Column,
        EventRule,
        FieldSource,
        Translation,
        WorkOrderMapping,
    )

    described = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text("utf-8")
    keys = {
        # as `key`, `key = …` or the table `[key]`, `[[key]]`, `[key.NAME]`
        model.__name__: [
            name for name in model.model_fields if not re.search(rf"`\[*{name}\b", described)
        ]
        for model in (WorkOrderMapping, Column, Translation, EventRule, FieldSource)
    }
    assert not any(keys.values()), f"docs/import.md does not describe: {keys}"
