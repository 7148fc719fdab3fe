"""Grafana's queries against a real Prometheus: Prometheus (Debian's package, installed by
infra/prometheus/install.sh) scrapes a running worker and API while cases go through them — an
overdue complaint with a webhook, enterprise and satisfied complaints, a corrected
reconsideration, lost lawsuits and their rectifications, a 不予处罚 decision not published in
time, a dead letter, a refused request — and
every panel query of every dashboard, evaluated through Prometheus's HTTP API, returns data.
The alerting rules load into that Prometheus and evaluate without error."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestream.domain.calendar import load_calendar
from casestream.domain.catalog import CaseKind
from casestream.domain.deadlines import compute_deadline
from casestream.domain.rules import load_rulebook
from casestream.local import prometheus_config, start_prometheus
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.integration.test_grafana_dashboards import DASHBOARD_FILES, load, panels
from tests.integration.webhook_receiver import Receiver, webhook_receiver
from tests.processes import Process, free_port, service_env, wait_for, wait_until_answers
from tests.sse import Listener

SCRAPE_SECONDS = 1
# Grafana's variables, as Grafana would fill them for a 1 s scrape interval and a short range
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1s", "$__range": "1h"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def dashboard_queries() -> list[tuple[str, str]]:
    """(dashboard: panel [ref], PromQL with Grafana's variables filled) of every panel target."""
    found = []
    for path in DASHBOARD_FILES:
        for panel in panels(load(path)):
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                found.append((f"{path.name}: {panel['title']} [{target['refId']}]", expr))
    return found


@contextmanager
def running_prometheus(
    tmp_path: Path, api_port: int, worker_port: int, token_file: Path
) -> Iterator[str]:
    """Prometheus as `casestream up --prometheus` runs it, scraping every second with the
    API's scrape token; its URL."""
    port = free_port()
    config = prometheus_config(
        [f"127.0.0.1:{api_port}"],
        [f"127.0.0.1:{worker_port}"],
        interval_seconds=SCRAPE_SECONDS,
        api_token_file=token_file,
    )
    process = start_prometheus(config, tmp_path / "prometheus", port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(url, "/-/ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def instant(prometheus_url: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expr}, timeout=10)
    body = answer.json()
    assert body["status"] == "success", f"{expr}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def event(event_type: str, case_id: str, kind: str, at: datetime, **payload: Any) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "case_id": case_id,
        "case_kind": kind,
        "occurred_at": at.isoformat(),
        "payload": payload,
    }


def cases(now: datetime) -> list[dict[str, Any]]:
    """Events a bureau would see in a month, dated so that deadlines are breached or near."""
    ago = lambda days: now - timedelta(days=days)  # noqa: E731
    lawsuit = {"court": "县法院", "plaintiff": {"name": "王伟"}, "department": "治安大队"}
    return [
        # overdue: accepted a month ago in 交警大队, never answered
        event("ComplaintReceived", "PL-C1", "complaint", ago(31), channel="online", subject="违停"),
        event("ComplaintAccepted", "PL-C1", "complaint", ago(30), department="交警大队"),
        # today's enterprise complaint from the 12345 hotline
        event(
            "ComplaintReceived",
            "PL-C2",
            "complaint",
            now,
            channel="hotline_12345",
            subject="涉企检查",
            enterprise=True,
            department="治安大队",
        ),
        # resolved and visited: one satisfied (5), one not (2)
        *[
            item
            for case_id, score in (("PL-C3", 5), ("PL-C4", 2))
            for item in (
                event(
                    "ComplaintReceived",
                    case_id,
                    "complaint",
                    ago(9),
                    channel="window",
                    subject="办证",
                ),
                event("ComplaintAccepted", case_id, "complaint", ago(8), department="户政大队"),
                event("ComplaintResolved", case_id, "complaint", ago(3), outcome="explained"),
                event("ComplaintFollowUpVisited", case_id, "complaint", ago(2), satisfaction=score),
            )
        ],
        # a reconsideration decided against the bureau (纠错)
        event(
            "ReconsiderationApplied",
            "PL-R1",
            "reconsideration",
            ago(70),
            applicant={"name": "李娜"},
            decision_ref="公决字〔2026〕1号",
            reconsideration_body="县政府",
            department="交警大队",
        ),
        event("ReconsiderationAccepted", "PL-R1", "reconsideration", ago(69)),
        event("ReconsiderationDecided", "PL-R1", "reconsideration", ago(40), decision="altered"),
        # two lost lawsuits: their rectifications are long overdue; one is completed
        *[
            item
            for case_id in ("PL-L1", "PL-L2")
            for item in (
                event(
                    "LawsuitFiled", case_id, "litigation", ago(120), decision_ref=case_id, **lawsuit
                ),
                event("ComplaintCopyServed", case_id, "litigation", ago(119)),
                event("DefenceSubmitted", case_id, "litigation", ago(110)),
                event(
                    "JudgmentIssued",
                    case_id,
                    "litigation",
                    ago(60),
                    instance="first",
                    outcome="revoked",
                ),
            )
        ],
        # a 不予处罚 decision of 20 days ago from the case-handling system, never published:
        # its 公示 (7 working days) is overdue
        event(
            "EnforcementDecisionRecorded",
            "PL-D1",
            "enforcement_decision",
            ago(20),
            decision_ref="公(治)不罚决字〔2026〕1号",
            exemption="first_offence",
            legal_basis="《行政处罚法》第三十三条第一款",
            decided_on=ago(20).date().isoformat(),
            department="治安大队",
        ),
        # a lawsuit whose defence is due within three days (即将到期)
        event("LawsuitFiled", "PL-L3", "litigation", ago(20), decision_ref="PL-L3", **lawsuit),
        event("ComplaintCopyServed", "PL-L3", "litigation", defence_due_soon(now)),
    ]


def defence_due_soon(now: datetime) -> datetime:
    """A service time whose defence deadline (15 days, rolled past rest days) is 1 h to 3 days
    away, whatever today's weekday or holiday."""
    rule, calendar = load_rulebook().get("litigation.defence"), load_calendar()
    for days in range(15, 0, -1):
        served = now - timedelta(days=days)
        due = compute_deadline(rule, served, calendar, tz="Asia/Shanghai").due_at
        if now + timedelta(hours=1) < due <= now + timedelta(days=3):
            return served
    raise AssertionError("no service date gives a defence due within 3 days")


def test_every_dashboard_query_returns_data_from_prometheus_scraping_worker_and_api(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path, receiver: Receiver
) -> None:
    hooks = tmp_path / "webhooks.toml"
    hooks.write_text(
        f'[[webhook]]\nid = "jiaojing"\nurl = "{receiver.url("jiaojing")}"\n'
        'secret = "live-prometheus-webhook-secret"\ndepartments = ["交警大队"]\n'
    )
    database = Database(f"sqlite:///{tmp_path / 'live.db'}", None)
    api_port, worker_port = free_port(), free_port()
    token_file = tmp_path / "metrics-token"
    token_file.write_text(secrets.token_urlsafe(32))
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(api_port),
        CASESTREAM_WEBHOOKS_FILE=str(hooks),
        CASESTREAM_SCANNER_INTERVAL_SECONDS="0.2",
        CASESTREAM_WORKER_METRICS_INTERVAL_SECONDS="0.5",
        CASESTREAM_METRICS_CACHE_SECONDS="1",
        CASESTREAM_METRICS_TOKEN_FILE=str(token_file),
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        **auth_env(),
    )
    worker = Process(["worker", "--metrics-port", str(worker_port)], env, tmp_path / "worker.log")
    server = Process(["api"], env, tmp_path / "api.log")
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{api_port}", timeout=30, headers=auth_headers("system")
    )
    listener: Listener | None = None
    try:
        wait_until_answers(f"http://127.0.0.1:{api_port}")
        with running_prometheus(tmp_path, api_port, worker_port, token_file) as scraper:
            listener = Listener(f"http://127.0.0.1:{api_port}", {}, auth_headers("leader"))
            assert listener.connected.wait(10)
            drive(api, kafka_bootstrap, topics, receiver)
            check(scraper)
    finally:
        if listener is not None:
            listener.close()
        api.close()
        server.stop()
        worker.stop()


def drive(api: httpx.Client, kafka_bootstrap: str, topics: Topics, receiver: Receiver) -> None:
    for body in cases(datetime.now(UTC)):
        answer = api.post("/events", json=body)
        assert answer.status_code == 202, (body, answer.text)
    refused = api.post("/events", json={"event_type": "ComplaintReceived", "case_id": "x"})
    assert refused.status_code == 422
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send_raw(topics.for_kind(CaseKind.complaint), b"PL-X", b"not json")

    # the reconsideration and both lawsuits open a rectification each; one is completed
    def rectifications() -> list[str]:
        items = api.get("/rectifications").json()["items"]
        return sorted(item["rectification_id"] for item in items) if len(items) == 3 else []

    first = wait_for(rectifications, timeout=60)[0]
    completed = api.post(f"/rectifications/{first}/completion", json={"evidence": ["整改报告"]})
    assert completed.status_code == 202, completed.text
    wait_for(lambda: receiver.on("jiaojing"), timeout=60)  # the overdue complaint's breach
    ready = api.get("/readyz")  # measures the API's own lag gauge
    assert ready.status_code == 200, ready.text


def check(prometheus_url: str) -> None:
    def unanswered() -> list[str]:
        return [
            f"{where}: {expr}"
            for where, expr in dashboard_queries()
            if not instant(prometheus_url, expr)
        ]

    # every panel query answers once Prometheus has scraped what the events caused
    with suppress(AssertionError):
        wait_for(lambda: not unanswered(), timeout=60, interval=1)
    assert unanswered() == []

    # and the figures are those of the cases driven through
    def figure(expr: str) -> float:
        (sample,) = instant(prometheus_url, expr)
        return float(sample["value"][1])

    disputes = 'case_kind=~"complaint|enterprise_tip|reconsideration|litigation"'
    assert figure(f"sum(max without (instance) (casestream_cases_overdue{{{disputes}}}))") == 1
    publication = 'rule="enforcement_decision.publication", status="overdue"'
    assert figure(f"sum(max without (instance) (casestream_clocks_open{{{publication}}}))") == 1
    assert (
        figure('sum(max without (instance) (casestream_rectifications{status="completed"}))') == 1
    )
    assert figure("sum(max without (instance) (casestream_rectifications_overdue))") == 2
    assert figure("sum(max without (instance) (casestream_clocks_due_soon))") >= 1
    assert figure(f"sum(casestream_cases_received_total{{{disputes}}})") == 8
    assert figure("sum(casestream_consumer_lag_events)") == 0

    groups = httpx.get(f"{prometheus_url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    unhealthy = [
        (rule["name"], rule.get("lastError"))
        for group in groups
        for rule in group["rules"]
        if rule["health"] != "ok"
    ]
    assert groups and unhealthy == []
