"""Alert ids are deterministic uuid5 names of the clock and the alert: the same text as
`uuid.uuid5`, whatever the clock id holds."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from casestream.domain.clocks import ALERT_ID_NAMESPACE, _uuid5_text


@given(st.text(max_size=300))
def test_an_alert_id_is_the_uuid5_of_its_name(name: str) -> None:
    assert _uuid5_text(name) == str(uuid.uuid5(ALERT_ID_NAMESPACE, name))
