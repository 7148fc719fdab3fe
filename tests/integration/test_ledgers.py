"""Ledgers (台账) as xlsx and csv over real SQLite and PostgreSQL read models.

The same projected scenario as the figures (tests/integration/test_stats.py); the files are
read back with openpyxl and the csv module, as a spreadsheet user would open them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.auth import auth_headers
from tests.conftest import Database
from tests.integration.test_console_stats import project_enforcement
from tests.integration.test_stats import client_for, hearings_scenario, project, scenario

CASE_HEADERS = [
    "案件编号", "类型", "状态", "来源渠道", "承办部门", "承办人", "涉企", "企业名称",
    "处罚决定书文号", "事由", "当事人", "联系电话", "受理时间", "办结时间", "时限", "是否超期",
    "办理结果", "纠错/败诉", "满意度", "出庭人员",
]  # fmt: skip
RECTIFICATION_HEADERS = [
    "整改编号", "来源案件", "来源类型", "处罚决定书文号", "责任部门", "责任人", "整改内容",
    "立项时间", "整改时限", "状态", "是否超期", "复盘状态", "根本原因", "整改措施", "进度(%)",
    "完成时间", "整改证据", "退回次数", "核验结果",
]  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(database: Database) -> Iterator[Any]:
    project(database, scenario())
    yield from client_for(database)


def workbook_rows(response: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The sheet and its rows as {header: value}."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = list(rows[0])
    return sheet, [dict(zip(headers, row, strict=True)) for row in rows[1:]]


def csv_rows(response: Any) -> tuple[list[str], list[dict[str, str]]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8
    reader = csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))
    headers, *rows = list(reader)
    return headers, [dict(zip(headers, row, strict=True)) for row in rows]


def test_case_ledger_xlsx_opens_with_chinese_labels_and_local_times(api: Any) -> None:
    response = api.get("/cases.xlsx", params={"kind": "complaint"})
    sheet, rows = workbook_rows(response)
    assert sheet.title == "案件台账"
    assert [cell.value for cell in sheet[1]] == CASE_HEADERS
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:T{len(rows) + 1}"
    assert sheet.column_dimensions["J"].width == 36  # 事由
    assert [row["案件编号"] for row in rows] == ["C6", "C5", "C4", "C3", "C2", "C1"]
    c1 = next(row for row in rows if row["案件编号"] == "C1")
    assert c1 == {
        "案件编号": "C1",
        "类型": "投诉",
        "状态": "已回访",
        "来源渠道": "12345热线",
        "承办部门": "治安大队",
        "承办人": None,
        "涉企": "否",
        "企业名称": None,
        "处罚决定书文号": None,
        "事由": "夜间噪音扰民",
        "当事人": "张三",  # legal (法制) sees personal data as recorded
        "联系电话": "13812345678",
        "受理时间": datetime(2026, 3, 1, 0, 30),  # local wall time, no offset
        "办结时间": datetime(2026, 3, 5, 9, 0),
        "时限": datetime(2026, 3, 23),  # complaint.handling: 15 working days
        "是否超期": "否",
        "办理结果": "属实",
        "纠错/败诉": None,
        "满意度": 5,
        "出庭人员": None,  # lawsuits only
    }
    received = sheet.cell(row=rows.index(c1) + 2, column=CASE_HEADERS.index("受理时间") + 1)
    assert received.is_date and received.number_format == "yyyy-mm-dd hh:mm"
    due = sheet.cell(row=rows.index(c1) + 2, column=CASE_HEADERS.index("时限") + 1)
    assert due.is_date and due.number_format == "yyyy-mm-dd"
    c4 = next(row for row in rows if row["案件编号"] == "C4")
    assert c4["状态"] == "已受理" and c4["是否超期"] == "是" and c4["办结时间"] is None
    c2 = next(row for row in rows if row["案件编号"] == "C2")
    assert (c2["涉企"], c2["企业名称"], c2["来源渠道"]) == ("是", "某某科技有限公司", "网上")


def test_text_that_looks_like_a_formula_stays_text(api: Any) -> None:
    _, rows = workbook_rows(api.get("/cases.xlsx", params={"kind": "complaint"}))
    assert next(row for row in rows if row["案件编号"] == "C6")["事由"] == "=1+2"
    _, lines = csv_rows(api.get("/cases.csv", params={"kind": "complaint"}))
    assert next(row for row in lines if row["案件编号"] == "C6")["事由"] == "'=1+2"


def test_case_ledger_csv_has_a_bom_and_human_times(api: Any) -> None:
    headers, rows = csv_rows(api.get("/cases.csv", params={"kind": "reconsideration"}))
    assert headers == CASE_HEADERS
    by_id = {row["案件编号"]: row for row in rows}
    assert set(by_id) == {"R1", "R2", "R3"}
    r2 = by_id["R2"]
    assert (r2["类型"], r2["状态"], r2["办理结果"], r2["纠错/败诉"]) == (
        "行政复议",
        "已决定",
        "撤销",
        "是",
    )
    assert (r2["受理时间"], r2["办结时间"], r2["时限"]) == (
        "2026-03-02 09:00",
        "2026-03-20 09:00",
        "2026-03-18",
    )
    assert r2["处罚决定书文号"] == "公(治)行罚决字〔2026〕102号"
    assert by_id["R1"]["纠错/败诉"] == "否" and by_id["R3"]["纠错/败诉"] == ""
    assert by_id["R3"]["办结时间"] == "" and by_id["R3"]["状态"] == "已受理"


def test_roles_without_need_see_personal_data_masked(api: Any) -> None:
    leader = auth_headers("leader")
    _, rows = csv_rows(api.get("/cases.csv", headers=leader))
    by_id = {row["案件编号"]: row for row in rows}
    assert (by_id["C1"]["当事人"], by_id["C1"]["联系电话"]) == ("张*", "138****5678")
    assert (by_id["R1"]["当事人"], by_id["R1"]["联系电话"]) == ("王*", "139****1111")
    assert by_id["L1"]["当事人"] == "赵*" and by_id["T1"]["当事人"] == "李*"
    assert by_id["T3"]["当事人"] == "匿名"  # an anonymous informant is never named
    _, unmasked = csv_rows(api.get("/cases.csv"))  # as legal
    assert {row["案件编号"]: row["当事人"] for row in unmasked}["T3"] == "匿名"


def test_ledgers_take_the_filters_of_the_lists(api: Any) -> None:
    def ids(**params: str) -> list[str]:
        return [row["案件编号"] for row in csv_rows(api.get("/cases.csv", params=params))[1]]

    assert ids(department="交警大队") == ["C5"]
    assert ids(kind="complaint", enterprise_only="true") == ["C2"]
    assert ids(kind="enterprise_tip", status="verified") == ["T2", "T1"]
    assert ids(enterprise="甲建材有限公司") == ["T3", "T2", "T1"]
    window = {"received_from": "2026-03-31T00:00:00+08:00", "received_to": "2026-04-02T00:00+08:00"}
    assert ids(**window) == ["C6", "C5"]
    naive = api.get("/cases.csv", params={"received_from": "2026-03-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["query", "received_from"]
    assert api.get("/cases.xlsx", params={"kind": "parking"}).status_code == 422


def test_a_department_head_gets_only_their_departments_rows(api: Any) -> None:
    head = auth_headers("department_head", "交警大队")
    _, rows = workbook_rows(api.get("/cases.xlsx", headers=head))
    assert [row["案件编号"] for row in rows] == ["C5"]
    _, rows = csv_rows(api.get("/rectifications.csv", headers=head))
    assert rows == []


def test_rectification_ledger_tracks_review_measures_deadline_and_verification(api: Any) -> None:
    response = api.get("/rectifications.xlsx")
    sheet, rows = workbook_rows(response)
    assert sheet.title == "整改台账" and [cell.value for cell in sheet[1]] == RECTIFICATION_HEADERS
    assert [row["整改编号"] for row in rows] == ["RECT-L1", "RECT-X", "RECT-R2"]
    by_id = {row["整改编号"]: row for row in rows}
    assert by_id["RECT-R2"] == {
        "整改编号": "RECT-R2",
        "来源案件": "R2",
        "来源类型": "行政复议",
        "处罚决定书文号": None,
        "责任部门": "治安大队",
        "责任人": "张警官",
        "整改内容": "整改 R2",
        "立项时间": datetime(2026, 3, 20, 10, 0),
        "整改时限": datetime(2026, 4, 10),
        "状态": "已核验",
        "是否超期": "否",
        "复盘状态": "已复盘",
        "根本原因": "程序违法、事实不清、证据不足",
        "整改措施": "完善告知程序；组织执法培训",
        "进度(%)": 100,
        "完成时间": datetime(2026, 4, 8, 9, 0),
        "整改证据": "培训签到表；新版告知书",
        "退回次数": 0,
        "核验结果": "通过（督察李）：材料齐全",
    }
    late = by_id["RECT-L1"]
    assert (late["来源类型"], late["状态"], late["是否超期"]) == ("行政诉讼", "待整改", "是")
    assert late["复盘状态"] == "无复盘" and late["完成时间"] is None
    assert by_id["RECT-X"]["状态"] == "已撤销"


def test_rectification_ledger_filters(api: Any) -> None:
    def ids(**params: str) -> list[str]:
        return [
            row["整改编号"] for row in csv_rows(api.get("/rectifications.csv", params=params))[1]
        ]

    assert ids(overdue="true") == ["RECT-L1"]
    assert ids(overdue="false") == ["RECT-X", "RECT-R2"]
    assert ids(source_case_kind="litigation") == ["RECT-L1", "RECT-X"]
    assert ids(status="verified", responsible_person="张警官") == ["RECT-R2"]
    assert ids(responsible_person="nobody") == []
    assert ids(opened_from="2026-03-25T00:00+08:00", opened_to="2026-03-26T00:00+08:00") == [
        "RECT-X"
    ]
    bad = api.get("/rectifications.csv", params={"opened_to": "2026-03-26T00:00"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "opened_to"]


def test_files_are_named_for_the_day_with_a_chinese_name_for_clients_that_can(api: Any) -> None:
    xlsx = api.get("/rectifications.xlsx").headers["content-disposition"]
    assert xlsx == (
        'attachment; filename="rectifications-20260415.xlsx"; '
        "filename*=UTF-8''%E6%95%B4%E6%94%B9%E5%8F%B0%E8%B4%A6-20260415.xlsx"
    )
    assert (
        api.get("/cases.csv")
        .headers["content-disposition"]
        .startswith("attachment; filename=\"cases-20260415.csv\"; filename*=UTF-8''")
    )


def test_an_empty_ledger_still_has_its_header(api: Any) -> None:
    sheet, rows = workbook_rows(api.get("/cases.xlsx", params={"department": "无此部门"}))
    assert rows == [] and sheet.auto_filter.ref == "A1:T1"
    headers, lines = csv_rows(api.get("/rectifications.csv", params={"status": "rejected"}))
    assert headers == RECTIFICATION_HEADERS and lines == []


def test_ledgers_need_a_caller(api: Any) -> None:
    assert api.get("/cases.xlsx", headers={"Authorization": ""}).status_code == 401


def test_the_case_ledger_shows_who_appeared_for_the_bureau_at_each_hearing(
    database: Database,
) -> None:
    project(database, hearings_scenario())
    for api in client_for(database):
        _, rows = csv_rows(api.get("/cases.csv", params={"kind": "litigation"}))
        appeared = {row["案件编号"]: row["出庭人员"] for row in rows}
        _, sheet_rows = workbook_rows(api.get("/cases.xlsx", params={"kind": "litigation"}))
    assert appeared == {
        "L7": "2026-03-25：王副局长（副局长）、李法制，负责人出庭；2026-04-08：李法制",
        "L8": "日期不详：未登记出庭人员，负责人出庭",  # an older HearingHeld names nobody
        "L9": "2026-04-08：李法制",
        "L10": "",
    }
    assert next(row for row in sheet_rows if row["案件编号"] == "L9")["出庭人员"] == (
        "2026-04-08：李法制"
    )


DECISION_HEADERS = [
    "案件编号", "决定书文号", "承办部门", "不予处罚情形", "法律依据", "案由", "决定日期",
    "公示时限", "公示时间", "公示平台", "撤回公示时间", "撤回原因", "状态", "是否按时公示",
]  # fmt: skip
NOTICE_HEADERS = [
    "案件编号", "监督书文号", "责任部门", "处罚决定书文号", "来源考评", "纠正事项", "制发时间",
    "整改期限", "状态", "整改编号", "整改状态", "整改是否超期", "核验人", "整改核验时间",
]  # fmt: skip


@pytest.fixture
def enforcement_api(database: Database) -> Iterator[Any]:
    project_enforcement(database)
    yield from client_for(database)


def test_the_decision_ledger_shows_each_publication_and_whether_it_was_on_time(
    enforcement_api: Any,
) -> None:
    sheet, rows = workbook_rows(enforcement_api.get("/enforcement/decisions.xlsx"))
    assert sheet.title == "不予处罚决定及公示台账"
    assert [cell.value for cell in sheet[1]] == DECISION_HEADERS
    by_id = {row["案件编号"]: row for row in rows}
    assert list(by_id) == ["BCF-5", "BCF-6", "BCF-4", "BCF-3", "BCF-2", "BCF-1"]  # newest first
    first = by_id["BCF-1"]
    assert first["决定书文号"] == "BCF-1" and first["承办部门"] == "治安大队"
    assert first["不予处罚情形"] == "首违不罚"
    assert first["法律依据"] == "《行政处罚法》第三十三条第一款"
    assert first["决定日期"] == datetime(2026, 3, 2)
    assert first["公示时间"] == datetime(2026, 3, 4, 10, 0)  # local wall time
    assert first["公示平台"] == "县政府网站" and first["状态"] == "已公示"
    due = first["公示时限"]
    assert datetime(2026, 3, 9) <= due <= datetime(2026, 3, 13)  # 7 working days
    on_time = {case_id: row["是否按时公示"] for case_id, row in by_id.items()}
    assert on_time == {
        "BCF-1": "按时",
        "BCF-2": "逾期公示",
        "BCF-3": "超期未公示",
        "BCF-4": "按时",
        "BCF-5": "未到期",
        "BCF-6": "未到期",
    }
    withdrawn = by_id["BCF-4"]
    assert withdrawn["状态"] == "已撤回公示" and withdrawn["撤回原因"] == "决定撤销"
    assert withdrawn["撤回公示时间"] == datetime(2026, 3, 5, 10, 0)
    assert by_id["BCF-3"]["公示时间"] is None and by_id["BCF-3"]["状态"] == "待公示"


def test_the_notice_ledger_shows_each_notices_rectification(enforcement_api: Any) -> None:
    headers, rows = csv_rows(enforcement_api.get("/enforcement/notices.csv"))
    assert headers == NOTICE_HEADERS
    by_id = {row["案件编号"]: row for row in rows}
    assert sorted(by_id) == ["JDS-1", "JDS-2"]
    rectified, open_one = by_id["JDS-1"], by_id["JDS-2"]
    assert rectified["监督书文号"] == "监督〔2026〕1号" and rectified["责任部门"] == "治安大队"
    assert rectified["纠正事项"] == "规范告知程序" and rectified["整改期限"] == "2026-04-30"
    assert rectified["状态"] == "已整改" and rectified["整改编号"] == "RECT-JDS-1"
    assert rectified["整改状态"] == "已核验" and rectified["核验人"] == "李督察"
    assert rectified["整改核验时间"] == "2026-03-20 10:00" and rectified["整改是否超期"] == "否"
    assert open_one["状态"] == "整改中" and open_one["整改状态"] == "待整改"
    assert open_one["整改是否超期"] == "否" and open_one["核验人"] == ""


def test_enforcement_ledgers_keep_to_the_callers_department(enforcement_api: Any) -> None:
    def ids(path: str, headers: dict[str, str] | None = None, **params: str) -> list[str]:
        answer = enforcement_api.get(path, headers=headers, params=params)
        return [row["案件编号"] for row in csv_rows(answer)[1]]

    traffic = auth_headers("department_head", "交警大队")
    assert ids("/enforcement/decisions.csv", traffic) == ["BCF-6"]
    assert ids("/enforcement/notices.csv", traffic) == []
    assert ids("/enforcement/decisions.csv", traffic, department="治安大队") == []
    assert ids("/enforcement/decisions.csv", department="交警大队") == ["BCF-6"]
    april = {"opened_from": "2026-04-01T00:00:00+08:00"}
    assert ids("/enforcement/decisions.csv", **april) == ["BCF-5", "BCF-6"]
    too_long = enforcement_api.get("/enforcement/notices.xlsx", params={"department": "部" * 201})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["query", "department"]
    naive = enforcement_api.get("/enforcement/decisions.xlsx", params={"opened_to": "2026-04-01"})
    assert naive.status_code == 422
    unsigned = enforcement_api.get("/enforcement/notices.xlsx", headers={"Authorization": ""})
    assert unsigned.status_code == 401
