"""The console's 年度报告 page (GET /console/annual-report?year=&department=): the figures
section of the yearly 法治政府建设 report, section by section beside the year before, with
links to download it as Word, Excel or Markdown (GET /ledgers/annual-report).

The report is the ledger endpoint's: the same builder on the same scope, the reader's own
department for a department-bound role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from casestream.read_models.annual_figures import AnnualFigureQueries
from casestream.reports.annual import (
    DEPARTMENT_MAX,
    YEAR_MAX,
    YEAR_MIN,
    AnnualReport,
    department_name,
)
from casestream.reports.annual_sections import annual_report

from .auth import visible_department
from .console import SIGN_IN_PAGE, _page, _redirect, _refused, signed_in, signed_in_frame
from .console_figures import FieldError
from .deps import Services, ServicesDep
from .sessions import session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
ANNUAL_PAGE = "/console/annual-report"
LEDGER = "/ledgers/annual-report"
_YEAR = re.compile(r"[0-9]{4}")
DOWNLOADS = (
    ("docx", "Word 文档（.docx）"),
    ("xlsx", "Excel 表格（.xlsx）"),
    ("md", "Markdown（.md）"),
)


@dataclass(frozen=True)
class ReportAsked:
    year: int
    department: str | None


@dataclass(frozen=True)
class Download:
    label: str
    href: str


def read_asked(query: Mapping[str, str], this_year: int) -> ReportAsked | list[FieldError]:
    """The year (default: this year) and department of the page's query, or the fields at
    fault, named in Chinese."""
    errors: list[FieldError] = []
    text = query.get("year", "").strip()
    year = this_year
    if text:
        if not _YEAR.fullmatch(text) or not YEAR_MIN <= int(text) <= YEAR_MAX:
            errors.append(
                FieldError(
                    "year",
                    f"年度（year）须为 {YEAR_MIN} 至 {YEAR_MAX} 之间的四位年份，例如 {this_year}。",
                )
            )
        else:
            year = int(text)
    department = query.get("department", "").strip() or None
    if department is not None and not department_name(department):
        errors.append(
            FieldError(
                "department",
                f"承办部门（department）须为不超过 {DEPARTMENT_MAX} 个字符的名称，不含控制字符。",
            )
        )
    return errors or ReportAsked(year, department)


def downloads(asked: ReportAsked, own: str | None) -> tuple[Download, ...]:
    """Links to the ledger endpoint, with and without the cases behind each figure."""
    query: dict[str, str] = {"year": str(asked.year)}
    if asked.department and own is None:  # a department-bound reader gets their own anyway
        query["department"] = asked.department
    found = []
    for value, label in DOWNLOADS:
        found.append(Download(label, f"{LEDGER}?{urlencode(query | {'format': value})}"))
    for value, label in DOWNLOADS[:2]:
        with_cases = query | {"format": value, "with_cases": "true"}
        found.append(Download(f"{label}，附所计案件", f"{LEDGER}?{urlencode(with_cases)}"))
    return tuple(found)


def _report(services: Services, asked: ReportAsked) -> AnnualReport:
    """The report (blocking: run in the threadpool)."""
    queries = AnnualFigureQueries(
        services.queries.engine, services.rulebook, services.settings.timezone
    )
    return annual_report(queries, asked.year, asked.department, services.now())


@router.get("/annual-report", response_class=HTMLResponse)
async def annual_report_page(request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    own = visible_department(session_principal(session))
    this_year = services.now().astimezone(ZoneInfo(services.settings.timezone)).year
    query = {name: request.query_params.get(name, "") for name in ("year", "department")}
    asked = read_asked(query, this_year)
    page: dict[str, Any] = {**signed_in_frame(session), "own_department": own, "query": query}
    if isinstance(asked, list):
        return _page(request, "annual_report.html", 422, errors=asked, report=None, **page)
    if own is not None and asked.department not in (None, own):
        return _refused(
            request, f"您只能查看本部门（{own}）的年度报告，请不要指定其他部门。", ANNUAL_PAGE
        )
    asked = ReportAsked(asked.year, own or asked.department)
    report = await run_in_threadpool(_report, services, asked)
    return _page(
        request,
        "annual_report.html",
        errors=[],
        report=report,
        downloads=downloads(asked, own),
        **page,
    )
