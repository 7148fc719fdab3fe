"""匿名举报: an anonymous informant is withheld from every case state and every view of an event,
for every role, while named persons keep their usual masking."""

from __future__ import annotations

import json
from typing import Any, get_args

from hypothesis import given
from hypothesis import strategies as st

from casestream.api.masking import event_shown_to, shown_to
from casestream.api.state_views import state_view
from casestream.credentials import Principal
from casestream.domain.anonymity import PERSON_FIELDS, withheld_fields, without_anonymous_persons
from casestream.domain.cases import evolve, fold, restore_state
from casestream.domain.catalog import PAYLOAD_TYPES, Person
from casestream.domain.commands import Role
from casestream.domain.tips import TipState
from tests.events import event

INFORMANT = {"name": "周秘密", "phone": "13566667777", "id_number": "32010219850505123X"}
IDENTITY = tuple(INFORMANT.values())
NAMED = {"name": "王小明", "phone": "13812341234", "id_number": "110101199001011234"}
NAMED_MASKED = {"name": "王**", "phone": "138****1234", "id_number": "110101****1234"}


def _tip(case_id: str, *, anonymous: bool, informant: dict[str, Any] | None = INFORMANT) -> Any:
    payload: dict[str, Any] = {"enterprise": "恒通建材", "subject": "涉嫌违规经营线索"}
    payload |= {"anonymous": anonymous, "department": "治安大队"}
    if informant is not None:
        payload["informant"] = informant
    return event("TipReceived", case_id, "enterprise_tip", payload)


def _leaks(value: Any) -> list[str]:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return [part for part in IDENTITY if part in text]


def test_every_person_field_of_the_catalog_is_one_the_anonymity_rule_knows() -> None:
    person_fields = {
        name
        for payload in PAYLOAD_TYPES.values()
        for name, field in payload.model_fields.items()
        if Person in (field.annotation, *get_args(field.annotation))
    }
    assert person_fields and person_fields <= PERSON_FIELDS


def test_a_record_made_anonymously_withholds_its_persons_and_a_named_one_none() -> None:
    assert withheld_fields({"informant": INFORMANT, "anonymous": True}) == {"informant"}
    assert withheld_fields({"informant": INFORMANT, "anonymous": False}) == frozenset()
    assert withheld_fields({"complainant": NAMED}) == frozenset()
    assert withheld_fields({"anonymous": True, "subject": "线索"}) == frozenset()


def test_an_anonymous_tips_informant_is_withheld_wherever_its_event_or_state_is_nested() -> None:
    body = _tip("T-A1", anonymous=True).model_dump(mode="json")
    view = {"history": [{"event": body}], "source_case": {"state": dict(body["payload"])}}

    shown = without_anonymous_persons(view)

    assert _leaks(shown) == [] and _leaks(view) == list(IDENTITY)  # a copy: the input stays
    payload = shown["history"][0]["event"]["payload"]
    assert payload["informant"] is None and payload["anonymous"] is True
    assert shown["source_case"]["state"]["informant"] is None
    assert {k: v for k, v in payload.items() if k != "informant"} == {
        k: v for k, v in body["payload"].items() if k != "informant"
    }


def test_a_named_informant_and_other_persons_pass_unchanged() -> None:
    named_tip = _tip("T-N1", anonymous=False).model_dump(mode="json")
    complaint = {"payload": {"complainant": NAMED, "channel": "window"}}
    assert without_anonymous_persons(named_tip) == named_tip
    assert without_anonymous_persons(complaint) == complaint


def test_the_state_of_an_anonymous_tip_never_holds_its_informant() -> None:
    received = _tip("T-A2", anonymous=True)
    assigned = event(
        "TipAssigned", "T-A2", "enterprise_tip", {"department": "治安大队", "handler": "民警101"}
    )
    opened = fold([received])
    state = fold([received, assigned])

    assert isinstance(state, TipState) and opened is not None
    assert state.informant is None and state.anonymous is True
    assert _leaks(state.model_dump(mode="json")) == []
    # stored between two batches and reloaded, as the projector does: the same as a replay
    stored = json.loads(json.dumps(opened.model_dump(mode="json")))
    assert _leaks(stored) == []
    assert evolve(restore_state(opened.case_kind, stored), assigned) == state


def test_the_state_of_a_named_tip_keeps_its_informant() -> None:
    state = fold([_tip("T-N2", anonymous=False)])
    assert isinstance(state, TipState)
    assert state.informant == Person(**INFORMANT) and state.anonymous is False


@given(
    name=st.text(min_size=1, max_size=20).filter(str.strip),
    phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    anonymous=st.booleans(),
)
def test_a_tips_informant_is_in_its_state_exactly_when_the_tip_is_not_anonymous(
    name: str, phone: str, anonymous: bool
) -> None:
    informant = {"name": name, "phone": phone}
    state = fold([_tip("T-P1", anonymous=anonymous, informant=informant)])
    assert isinstance(state, TipState)
    expected = None if anonymous else Person(name=name, phone=phone)
    assert state.informant == expected
    assert without_anonymous_persons(without_anonymous_persons(state.model_dump())) == (
        state.model_dump()
    )


ROLES = [
    Principal("staff", role, "治安大队" if role in (Role.handler, Role.department_head) else None)
    for role in Role
]


def _tip_view(case_id: str, informant: dict[str, Any], *, anonymous: bool) -> Any:
    """A tip's state as the read model might hold it (an anonymous one with its informant
    too, as if a state from before the anonymity rule were read back)."""
    return state_view(
        {
            "case_id": case_id,
            "case_kind": "enterprise_tip",
            "status": "received",
            "informant": informant,
            "anonymous": anonymous,
        }
    )


def test_no_role_sees_an_anonymous_informant_through_the_api_masking() -> None:
    body = _tip("T-A3", anonymous=True).model_dump(mode="json")
    view = _tip_view("T-A3", INFORMANT, anonymous=True)
    for principal in ROLES:
        shown_state, shown_event = shown_to(principal, view), event_shown_to(principal, body)
        assert _leaks(shown_state.model_dump(mode="json")) == [], principal.role
        assert _leaks(shown_event) == [], principal.role
        assert shown_state.informant is None and shown_state.anonymous is True
        assert shown_event["payload"]["informant"] is None


def test_named_persons_keep_their_masking_per_role() -> None:
    complaint = event(
        "ComplaintReceived",
        "C-N1",
        "complaint",
        {"channel": "window", "subject": "窗口办证拖延", "complainant": NAMED},
    ).model_dump(mode="json")
    named_tip = _tip_view("T-N3", NAMED, anonymous=False)
    for principal in ROLES:
        unmasked = principal.role in (Role.legal, Role.supervisor, Role.system)
        expected = NAMED if unmasked else NAMED_MASKED
        assert event_shown_to(principal, complaint)["payload"]["complainant"] == expected
        shown = shown_to(principal, named_tip)
        assert shown.informant is not None and shown.informant.model_dump() == expected
