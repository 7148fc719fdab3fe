"""`casestream deadline preview`: JSON and human output, usage errors, deployment files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from casestream.deadline_cli import deadline_app

runner = CliRunner()
NO_FILES: dict[str, str | None] = {
    "CASESTREAM_RULES_FILE": None,
    "CASESTREAM_CALENDAR_FILE": None,
    "CASESTREAM_TIMEZONE": None,
}


def _preview(*args: str, env: dict[str, str | None] | None = None) -> Any:
    return runner.invoke(deadline_app, ["preview", *args], env={**NO_FILES, **(env or {})})


def _json(*args: str, env: dict[str, str | None] | None = None) -> dict[str, Any]:
    result = _preview(*args, "--json", env=env)
    assert result.exit_code == 0, result.output
    decoded: dict[str, Any] = json.loads(result.stdout)
    return decoded


def test_json_preview_of_the_reply_deadline_across_spring_festival() -> None:
    shown = _json("--rule", "reconsideration.reply", "--start", "2026-02-05")
    assert shown["rule"] == "reconsideration.reply"
    assert shown["start"] == "2026-02-05"
    assert shown["due_date"] == "2026-02-26"
    assert shown["due_at"] == "2026-02-26T23:59:59+08:00"
    assert datetime.fromisoformat(shown["due_at"]).utcoffset() is not None
    assert shown["provisional"] is False
    assert shown["counted_days"] == [
        "2026-02-06",
        "2026-02-09",
        "2026-02-10",
        "2026-02-11",
        "2026-02-12",
        "2026-02-13",
        "2026-02-14",
        "2026-02-24",
        "2026-02-25",
        "2026-02-26",
    ]
    assert shown["severity"] == "critical"


def test_pauses_and_an_extension_are_passed_to_the_count() -> None:
    shown = _json(
        "--rule",
        "reconsideration.decision",
        "--start",
        "2026-03-03",
        "--pause",
        "2026-03-10/2026-03-15",
        "--pause",
        "2026-04-01/2026-04-05",
        "--extension",
        "30",
    )
    # 90 d from Mar 3 is Jun 1; 5 + 4 paused days -> Wed Jun 10
    assert shown["due_date"] == "2026-06-10"
    assert [s["day"] for s in shown["skipped"] if s["reason"] == "paused"][:2] == [
        "2026-03-11",
        "2026-03-12",
    ]


def test_the_human_explanation_names_skipped_days_and_why() -> None:
    result = _preview("--rule", "reconsideration.reply", "--start", "2026-02-05")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "2026-02-07 Sat … 2026-02-08 Sun (2 days): weekend" in text
    assert "2026-02-15 Sun … 2026-02-23 Mon (9 days): official holiday 春节 Spring Festival" in text
    assert "2026-02-14 Sat counted: adjusted working day (调休)" in text
    assert "due 2026-02-26 Thu" in text


def test_the_human_explanation_of_a_roll_names_the_holiday() -> None:
    result = _preview("--rule", "litigation.defence", "--start", "2026-06-04")
    assert "ended on 2026-06-19 Fri (端午节 Dragon Boat Festival)" in result.stdout
    assert "due 2026-06-22 Mon" in result.stdout


def test_an_unknown_rule_exits_2_and_lists_the_valid_rules() -> None:
    result = _preview("--rule", "reconsideration.repyl", "--start", "2026-02-05")
    assert result.exit_code == 2
    assert "unknown rule 'reconsideration.repyl'" in result.stderr
    assert "reconsideration.reply, reconsideration.reply_simplified" in result.stderr


def test_malformed_dates_exit_2_and_name_the_expected_format() -> None:
    for args in (
        ["--start", "2026-2-5"],
        ["--start", "2026-02-30"],
        ["--start", "2026-03-01", "--pause", "2026-03-02"],
        ["--start", "2026-03-01", "--pause", "2026-03-02/soon"],
    ):
        result = _preview("--rule", "litigation.defence", *args)
        assert result.exit_code == 2, args
        assert "YYYY-MM-DD" in result.stderr


def test_an_extension_the_rule_does_not_allow_exits_2() -> None:
    result = _preview(
        "--rule", "reconsideration.decision", "--start", "2026-03-03", "--extension", "31"
    )
    assert result.exit_code == 2
    assert "at most 30" in result.stderr


def test_the_calendar_file_from_the_environment_settles_an_uncovered_year(tmp_path: Path) -> None:
    args = ("--rule", "complaint.handling", "--start", "2026-12-21")
    assert _json(*args)["provisional"] is True
    path = tmp_path / "calendar.toml"
    path.write_text('[2027.holidays]\n"元旦" = ["2027-01-01/2027-01-03"]\n', encoding="utf-8")
    shown = _json(*args, env={"CASESTREAM_CALENDAR_FILE": str(path)})
    assert (shown["provisional"], shown["due_date"]) == (False, "2027-01-12")


def test_the_rules_file_from_the_environment_overrides_a_rule(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nid = "complaint.handling"\nlength = 10\n', encoding="utf-8")
    shown = _json(
        "--rule",
        "complaint.handling",
        "--start",
        "2026-09-14",
        env={"CASESTREAM_RULES_FILE": str(path)},
    )
    # 10 wd from Sep 14: 15-18, Sun 20 调休, 21-24 (9), 中秋 25-27, Mon 28
    assert shown["due_date"] == "2026-09-28"


def test_an_invalid_rules_file_exits_2_naming_the_file_rule_and_field(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nid = "complaint.handling"\nunit = "weeks"\n', encoding="utf-8")
    result = _preview(
        "--rule", "complaint.handling", "--start", "2026-09-14", "--rules-file", str(path)
    )
    assert result.exit_code == 2
    assert str(path) in result.stderr
    assert "rule 'complaint.handling'" in result.stderr
    assert "field 'unit'" in result.stderr


def test_the_sub_app_works_registered_under_the_main_command() -> None:
    app = typer.Typer()
    app.add_typer(deadline_app, name="deadline")
    result = runner.invoke(
        app,
        ["deadline", "preview", "--rule", "litigation.appeal_ruling", "--start", "2026-09-30"],
        env=NO_FILES,
    )
    assert result.exit_code == 0, result.output
    assert "due 2026-10-10 Sat" in result.stdout
