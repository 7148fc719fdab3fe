"""The console's 统计 page (GET /console/stats?from=&to=&department=): the rule-of-law rates
of the cases received in a period, in total and by department, drawn as inline SVG bar charts
beside their tables, the cases received per month, the 执法监督 figures (考评, 执法监督书,
不予处罚 decisions and their 公示), and links to the Grafana dashboards.

The figures are GET /stats's: the same query (read_models/stats.py) on the same scope, the
reader's own department for a department-bound role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from casestream.read_models.stats import StatsQueries, StatsScope
from casestream.read_models.stats_breakdown import Buckets, Grain, StatsBreakdown, buckets_of

from .auth import visible_department
from .console import SIGN_IN_PAGE, _page, _redirect, _refused, signed_in, signed_in_frame
from .console_charts import Bar, Chart, column_chart, count_scale, horizontal_bar_chart
from .console_figures import (
    EnforcementBlock,
    Period,
    Rate,
    enforcement_block,
    rates_of,
    read_period,
)
from .deps import Services, ServicesDep
from .params import LATEST
from .sessions import session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
STATS_PAGE = "/console/stats"


@dataclass(frozen=True)
class Dashboard:
    """A Grafana dashboard of infra/grafana/dashboards/, by its uid."""

    uid: str
    title: str
    shows: str


DASHBOARDS = (
    Dashboard("casestream-leadership", "领导看板", "今日新增、超期、即将到期，各项法治指标及趋势"),
    Dashboard("casestream-rectification", "整改看板", "在办、超期、待核验的整改及按部门分布"),
    Dashboard("casestream-operations", "运行监控", "事件吞吐、消费延迟、死信与接口时延"),
)


def dashboard_url(grafana_url: str, dashboard: Dashboard) -> str:
    return f"{grafana_url.rstrip('/')}/d/{dashboard.uid}"


@dataclass(frozen=True)
class DepartmentRates:
    department: str
    rates: tuple[Rate, ...]


@dataclass(frozen=True)
class ReceivedIn:
    """Cases received (收案) in one month or year of the period."""

    label: str
    received: int


@dataclass(frozen=True)
class Figure:
    """A chart and its visible caption (the chart's own title, for sighted readers)."""

    caption: str
    svg: Markup


def _figure(chart: Chart, draw: Callable[[Chart], Markup]) -> Figure:
    return Figure(chart.title, draw(chart))


@dataclass(frozen=True)
class LedgerLink:
    """A 台账 of the period's 执法监督 cases, downloaded from the API (the session signs in)."""

    label: str
    href: str


def ledger_links(
    first: date, last: date, zone: ZoneInfo, department: str | None
) -> tuple[LedgerLink, ...]:
    """The enforcement ledgers of the cases opened from `first` to `last` (local days, both
    included), of `department` or of every department the reader may see."""
    params = {"opened_from": datetime.combine(first, time(), zone).isoformat()}
    if last < LATEST:  # the API takes no instant past 2999
        params["opened_to"] = datetime.combine(last + timedelta(days=1), time(), zone).isoformat()
    if department is not None:
        params["department"] = department
    query = urlencode(params)
    return (
        LedgerLink("不予处罚决定及公示台账（Excel）", f"/enforcement/decisions.xlsx?{query}"),
        LedgerLink("执法监督书台账（Excel）", f"/enforcement/notices.xlsx?{query}"),
    )


@dataclass(frozen=True)
class StatsView:
    period: Period
    department: str | None
    as_of: str
    rates: tuple[Rate, ...]
    by_department: tuple[DepartmentRates, ...]
    rate_charts: tuple[Figure, ...]
    received: tuple[ReceivedIn, ...]
    grain: Grain
    received_chart: Figure
    enforcement: EnforcementBlock
    ledgers: tuple[LedgerLink, ...]


def _received(buckets: Buckets, counts: list[int]) -> tuple[ReceivedIn, ...]:
    form = "%Y-%m" if buckets.grain is Grain.month else "%Y年"
    return tuple(
        ReceivedIn(day.strftime(form), count)
        for day, count in zip(buckets.starts, counts, strict=True)
    )


def _rate_chart(rate: Rate, index: int, rows: tuple[DepartmentRates, ...], period: str) -> Figure:
    """The `index`th rate (`rate` in total) of each department, as a horizontal bar chart."""
    bars = tuple(
        Bar(row.department, row.rates[index].value, row.rates[index].percent) for row in rows
    )
    chart = Chart(
        chart_id=f"chart-{rate.key}",
        title=f"各部门{rate.label}",
        desc=f"{period}各部门的{rate.label}，条长按 0–100% 绘制；"
        "无分母的部门不画条，标“—”。数值见“各部门法治指标”表。",
        bars=bars,
        scale=1.0,
    )
    return _figure(chart, horizontal_bar_chart)


def _view(services: Services, period: Period, department: str | None) -> StatsView:
    """The figures of the period (blocking: run in the threadpool)."""
    settings, engine = services.settings, services.queries.engine
    zone, now = ZoneInfo(settings.timezone), services.now()
    stats = StatsQueries(engine, services.rulebook, settings.timezone)
    breakdown = StatsBreakdown(engine, settings.timezone)
    scope = StatsScope.of_days(period.first, period.last, zone, department, now)
    figures = stats.figures(scope)
    rates = rates_of(figures)
    by_department = tuple(
        DepartmentRates(name, rates_of(figures))
        for name, figures in stats.by_department(scope).items()
    )
    # no case is received before intake's earliest day nor after its future window
    today = now.astimezone(zone).date()
    first = max(period.first, settings.intake_earliest)
    last = min(period.last, today + timedelta(days=settings.intake_future_days))
    buckets = buckets_of(first, last)
    received = _received(buckets, breakdown.received(scope, buckets))
    period_text = f"{period.first} 至 {period.last} 收案的案件中，"
    unit = "月" if buckets.grain is Grain.month else "年"
    received_chart = Chart(
        chart_id="chart-received",
        title=f"每{unit}收案数",
        desc=f"{period.first} 至 {period.last} 每{unit}收到的投诉、涉企举报、行政复议和行政诉讼"
        f"案件数，共 {sum(r.received for r in received)} 件。数值见旁边的表。",
        bars=tuple(Bar(r.label, r.received, str(r.received)) for r in received),
        scale=count_scale([r.received for r in received]),
    )
    return StatsView(
        period=period,
        department=department,
        as_of=f"{now.astimezone(zone):%Y-%m-%d %H:%M}",
        rates=rates,
        by_department=by_department,
        rate_charts=tuple(
            _rate_chart(rate, n, by_department, period_text) for n, rate in enumerate(rates)
        ),
        received=received,
        grain=buckets.grain,
        received_chart=_figure(received_chart, column_chart),
        enforcement=enforcement_block(figures.enforcement),
        ledgers=ledger_links(period.first, period.last, zone, department),
    )


@router.get("/stats", response_class=HTMLResponse)
async def stats_page(request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    own = visible_department(session_principal(session))
    zone = ZoneInfo(services.settings.timezone)
    query = {name: request.query_params.get(name, "") for name in ("from", "to", "department")}
    asked = read_period(query, services.now().astimezone(zone).date())
    page: dict[str, Any] = {
        **signed_in_frame(session),
        "own_department": own,
        "query": query,
        "grafana": [
            (dashboard, dashboard_url(services.settings.grafana_url, dashboard))
            for dashboard in DASHBOARDS
        ],
    }
    if isinstance(asked, list):
        return _page(request, "stats.html", 422, errors=asked, view=None, **page)
    if own is not None and asked.department not in (None, own):
        return _refused(
            request, f"您只能查看本部门（{own}）的统计，请不要指定其他部门。", STATS_PAGE
        )
    department = own or asked.department
    view = await run_in_threadpool(_view, services, asked, department)
    return _page(request, "stats.html", errors=[], view=view, **page)
