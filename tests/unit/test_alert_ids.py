"""Alert ids are deterministic uuid5 names of the clock and the alert: the same text as
`uuid.uuid5`, whatever the clock id holds; naming only the alerts a question needs answers it
as naming the whole schedule would."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from casestream.domain.clocks import ALERT_ID_NAMESPACE, _uuid5_text, schedule
from tests.unit.test_clocks import ACCEPTED, POLICY, accepted_complaint, run


@given(st.text(max_size=300))
def test_an_alert_id_is_the_uuid5_of_its_name(name: str) -> None:
    assert _uuid5_text(name) == str(uuid.uuid5(ALERT_ID_NAMESPACE, name))


@given(st.sets(st.integers(min_value=0, max_value=7)), st.integers(min_value=0, max_value=40))
def test_the_alerts_owed_and_the_next_alert_follow_the_whole_schedule(
    emitted_positions: set[int], days_on: int
) -> None:
    """Naming only the alerts needed gives what naming every alert of the schedule gives."""
    _, (handling, *_) = run(accepted_complaint())
    rule = POLICY.rulebook.rules[handling.rule_id]
    every = schedule(handling, rule, POLICY.calendar, POLICY.timezone)
    emitted = tuple(sorted(every[i].alert_id for i in emitted_positions if i < len(every)))
    clock = handling.model_copy(update={"emitted": emitted})
    now = ACCEPTED + timedelta(days=days_on)
    pending = [alert for alert in every if alert.alert_id not in emitted]
    assert POLICY.due_alerts(clock, now) == [a for a in pending if a.scheduled_at <= now]
    assert POLICY.next_alert_at(clock) == min((a.scheduled_at for a in pending), default=None)
