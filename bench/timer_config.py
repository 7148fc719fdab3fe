"""What the deadline-timer bench (bench/timers.py) seeds and measures against: its time zone,
the one-minute bench rule, the mix of rules and departments of the seeded clocks, and the
sizes of its scenarios."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from casestream.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Asia/Shanghai"
ZONE = ZoneInfo(TIMEZONE)
TARGET_P99 = 1.0  # seconds from due instant to the alert on the stream
BENCH_RULE = "bench.minute"
SCANNER_BATCH: int = Settings.model_fields["scanner_batch_size"].default  # the worker's (1000)
SMALL_CLOCKS = 10_000  # open clocks of the comparison schema
PROBE_STEPS = (0, 10, 100, 1_000, 10_000)  # due clocks for the in-process scanner passes
PASS_REPEATS = 5  # in-process passes per scenario (median reported)
QUIET_HOURS = 3.0  # no seeded clock's next alert falls sooner than this after seeding

RULES_TOML = f"""\
# bench/timers.py: a one-minute clock on every complaint accepted at the window
[[rule]]
id = "{BENCH_RULE}"
title = "bench: one-minute deadline"
source = "bench/timers.py (benchmark only, not a real regulation)"
starts_on = "ComplaintAccepted"
when = {{ channel = "window" }}
stops_on = ["ComplaintResolved"]
length = 1
unit = "minutes"
warnings = []
escalation = [{{ level = 2, notify = "department_head", at = "breach" }}]
"""

# share of the open clocks per rule (a city bureau: mostly complaints)
SEED_RULES: dict[str, float] = {
    "complaint.handling": 0.38,
    "complaint.handling_enterprise": 0.08,
    "complaint.follow_up": 0.06,
    "petition.handling": 0.05,
    "enterprise_tip.handling": 0.08,
    "enterprise_tip.feedback": 0.03,
    "reconsideration.reply": 0.04,
    "reconsideration.decision": 0.07,
    "litigation.defence": 0.04,
    "litigation.first_instance": 0.04,
    "litigation.second_instance": 0.02,
    "rectification.review": 0.04,
    "rectification.completion": 0.04,
    "rectification.verification": 0.03,
}
DEPARTMENTS = (
    "治安大队",
    "交警大队",
    "刑侦大队",
    "经侦大队",
    "出入境管理大队",
    "户政科",
    "网安大队",
    "禁毒大队",
    "食药环侦大队",
    "城关派出所",
    "东城派出所",
    "西城派出所",
    "南湖派出所",
    "开发区派出所",
)
