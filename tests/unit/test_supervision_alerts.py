"""The supervisors' alert of a 督察 supervision: the flag that puts a complaint under supervision
raises one SupervisionRequested (notify supervisor, level 3, no personal data), closing the
supervision or reopening the complaint clears it; the same supervision always gives the same
alert and clearing, and a complaint flagged again later gets another one."""

from __future__ import annotations

from typing import Any

from casestream.domain import catalog as ev
from casestream.domain.cases import evolve, fold
from casestream.domain.complaints import ComplaintState
from casestream.domain.envelope import Event
from casestream.domain.outcomes import OutcomeSettings, consequences
from casestream.domain.supervision_flags import SUPERVISION_RULE, supervision_alerts
from tests.events import complaint_lifecycle, event

SETTINGS = OutcomeSettings()


def visited(case_id: str, satisfaction: int, day: int = 6) -> Event[Any]:
    return event(
        "ComplaintFollowUpVisited", case_id, "complaint", {"satisfaction": satisfaction}, day=day
    )


def applied(state: ComplaintState | None, new: Event[Any]) -> tuple[list[Any], ComplaintState]:
    """The events `new` owes, and the complaint after it."""
    after = evolve(state, new)
    assert isinstance(after, ComplaintState)
    return list(consequences(new, state, after, SETTINGS)), after


def under_supervision(case_id: str, day: int = 6) -> tuple[Event[Any], ComplaintState]:
    """A complaint visited with satisfaction 1 and its flag applied: the alert it owed, and the
    complaint."""
    before = fold(complaint_lifecycle(case_id)[:-1])
    assert isinstance(before, ComplaintState)
    (flag,), after = applied(before, visited(case_id, 1, day))
    (alert,), state = applied(after, flag)
    return alert, state


def test_the_flag_that_puts_a_complaint_under_supervision_raises_one_alert_for_supervisors() -> (
    None
):
    alert, state = under_supervision("C-1")
    assert alert.event_type == "SupervisionRequested"
    payload = alert.payload
    assert isinstance(payload, ev.SupervisionRequested)
    assert (payload.rule, payload.notify, payload.level) == (SUPERVISION_RULE, "supervisor", 3)
    assert (payload.department, payload.enterprise) == ("治安大队", False)
    assert payload.clock_id.startswith(f"C-1/{SUPERVISION_RULE}/")
    assert payload.due_at == payload.scheduled_at == state.supervised_since
    assert str(alert.event_id) == payload.alert_id
    assert (alert.case_id, alert.case_kind) == ("C-1", ev.CaseKind.complaint)
    assert (alert.source, alert.actor) == ("casestream.supervision", "system")


def test_the_alert_carries_no_personal_data_beyond_any_alert() -> None:
    alert, _ = under_supervision("C-2")
    assert set(alert.payload.model_dump()) == set(ev.Escalated.model_fields)
    assert "satisfaction" not in alert.model_dump_json()


def test_a_redelivered_follow_up_raises_the_same_alert() -> None:
    before = fold(complaint_lifecycle("C-3")[:-1])
    assert isinstance(before, ComplaintState)
    visit = visited("C-3", 1)
    alerts = []
    for _ in range(2):  # the same follow-up delivered twice, each time projected afresh
        (flag,), after = applied(before, visit)
        (alert,), _ = applied(after, flag)
        alerts.append(alert)
    assert alerts[0] == alerts[1]


def test_a_second_flag_of_the_same_supervision_raises_no_alert() -> None:
    _, state = under_supervision("C-4")
    since = state.supervised_since
    late_flag = event(
        "SupervisionFlagged",
        "C-4",
        "complaint",
        {"satisfaction": 1, "threshold": 2, "reason": "again"},
        day=7,
    )
    derived, after = applied(state, late_flag)
    assert derived == [] and after.supervision and after.supervised_since == since


def test_closing_the_supervision_clears_its_alert() -> None:
    alert, state = under_supervision("C-5")
    close = event(
        "SupervisionClosed", "C-5", "complaint", {"supervisor": "du.cha", "conclusion": "已约谈"}
    )
    (cleared,), after = applied(state, close)
    assert isinstance(cleared.payload, ev.AlertCleared)
    assert cleared.payload.clock_id == alert.payload.clock_id
    assert (cleared.payload.reason, cleared.payload.notify) == ("supervision closed", "supervisor")
    assert cleared.event_id != alert.event_id and cleared.causation_id == str(close.event_id)
    assert after.supervised_since is None


def test_reopening_the_complaint_clears_its_alert() -> None:
    alert, state = under_supervision("C-6")
    reopen = event("ComplaintReopened", "C-6", "complaint", {"reason": "重办"}, day=8)
    (cleared,), _ = applied(state, reopen)
    assert isinstance(cleared.payload, ev.AlertCleared)
    assert cleared.payload.clock_id == alert.payload.clock_id
    assert cleared.payload.reason == "complaint reopened"


def test_a_complaint_flagged_again_after_its_supervision_closed_gets_another_alert() -> None:
    alert, state = under_supervision("C-7")
    close = event(
        "SupervisionClosed", "C-7", "complaint", {"supervisor": "du.cha", "conclusion": "已约谈"}
    )
    _, closed = applied(state, close)
    (flag,), revisited = applied(closed, visited("C-7", 2, day=9))
    (second,), _ = applied(revisited, flag)
    assert second.payload.clock_id != alert.payload.clock_id
    assert second.event_id != alert.event_id


def test_nothing_to_clear_when_the_complaint_was_not_under_supervision() -> None:
    history = complaint_lifecycle("C-8")
    before = fold(history[:-1])
    reopen = event("ComplaintReopened", "C-8", "complaint", {"reason": "重办"}, day=8)
    assert supervision_alerts(reopen, before, evolve(before, reopen)) == []
    assert supervision_alerts(history[-1], before, evolve(before, history[-1])) == []
