"""The scanner builds its alert events without validating them again (a midnight cohort builds
hundreds of thousands): each must be the very event `new_event` validates, and read back from
its JSON as the projector reads it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from casestream.domain.alerts import alert_payload
from casestream.domain.clocks import Clock, DueAlert, with_emitted
from casestream.domain.envelope import Event, new_event, parse_event
from casestream.stream_processors.scanner import SCANNER_SOURCE, alert_event
from tests.unit.test_clocks import ACCEPTED, POLICY, accepted_complaint, run

NOW = ACCEPTED + timedelta(days=90)


def validated(clock: Clock, alert: DueAlert, now: datetime) -> Event[Any]:
    return new_event(
        alert_payload(clock, alert),
        event_id=alert.alert_id,
        case_id=clock.case_id,
        case_kind=clock.case_kind,
        occurred_at=alert.scheduled_at,
        recorded_at=now,
        source=SCANNER_SOURCE,
        actor="system",
        correlation_id=clock.start_event_id,
        causation_id=clock.start_event_id,
    )


def owed_alerts() -> list[tuple[Clock, DueAlert]]:
    """Every kind of alert a clock owes: warnings, the breach and escalations of a clock long
    past due (an enterprise one, in a department), then the clearing once it stops."""
    _, clocks = run(accepted_complaint("SC-1", enterprise=True))
    (clock,) = clocks
    owed = [(clock, alert) for alert in POLICY.due_alerts(clock, NOW)]
    emitted = with_emitted(clock, [alert.alert_id for _, alert in owed])
    stopped = emitted.model_copy(update={"stopped_at": NOW})
    owed += [(stopped, alert) for alert in POLICY.due_alerts(stopped, NOW)]
    return owed


def test_every_kind_of_alert_is_owed_by_the_sample() -> None:
    kinds = {alert.payload_type.__name__ for _, alert in owed_alerts()}
    assert kinds == {"DeadlineApproaching", "DeadlineBreached", "Escalated", "AlertCleared"}


def test_the_scanners_event_is_the_validated_one_field_for_field() -> None:
    for clock, alert in owed_alerts():
        fast = alert_event(clock, alert, NOW)
        slow = validated(clock, alert, NOW)
        assert fast == slow, alert.payload_type.__name__
        assert fast.model_fields_set == slow.model_fields_set
        assert fast.payload.model_fields_set == slow.payload.model_fields_set
        assert fast.model_dump_json() == slow.model_dump_json()


def test_the_scanners_event_reads_back_from_its_json_unchanged() -> None:
    for clock, alert in owed_alerts():
        fast = alert_event(clock, alert, NOW)
        assert parse_event(fast.to_json_bytes()) == fast
        assert fast.as_published() == validated(clock, alert, NOW).as_published()
