"""The 工作台's labels: every alert type and rule an alert may name has Chinese words for the
live list, and what console.js receives is the JSON of them."""

from __future__ import annotations

import json
import re

from casestream.api.console_home import ALERT_STREAM, TONES, LiveAlertLabels, rule_titles
from casestream.api.console_labels import ALERT_LEVELS, ALERT_TYPES, KINDS
from casestream.api.console_labels import rule_title_zh as zh_title
from casestream.domain.rules import load_rulebook
from casestream.domain.supervision_flags import SUPERVISION_RULE
from casestream.read_models.alert_queries import ALERT_EVENT_TYPES

LATIN = re.compile(r"[A-Za-z]")


def test_every_alert_type_has_a_chinese_label_and_a_look() -> None:
    assert set(ALERT_TYPES) == set(ALERT_EVENT_TYPES)
    assert set(TONES) == set(ALERT_EVENT_TYPES)
    assert not any(LATIN.search(text) for text in ALERT_TYPES.values())


def test_every_rule_an_alert_names_has_a_chinese_title() -> None:
    rulebook = load_rulebook()
    titles = rule_titles(rulebook)
    assert set(titles) == {*rulebook.rules, SUPERVISION_RULE}
    for rule_id, title in titles.items():
        assert title and not LATIN.search(title), (rule_id, title)
    assert titles["complaint.handling"] == "投诉办理"
    assert zh_title("一审审限 First-instance period (court)") == "一审审限"
    assert zh_title("整改") == "整改"


def test_the_script_gets_the_labels_as_json() -> None:
    labels = LiveAlertLabels(
        stream=ALERT_STREAM,
        timezone="Asia/Shanghai",
        rules={"complaint.handling": "投诉办理"},
        types=ALERT_TYPES,
        tones=TONES,
        levels=ALERT_LEVELS,
        kinds=KINDS,
    )
    decoded = json.loads(labels.json())
    assert decoded["stream"] == "/alerts/stream" and decoded["timezone"] == "Asia/Shanghai"
    assert decoded["types"] == dict(ALERT_TYPES) and decoded["levels"]["2"] == "二级（部门负责人）"
    assert decoded["kinds"]["complaint"] == "投诉"
