"""Masking of personal data (个人信息脱敏) of complainants, applicants, plaintiffs and informants.

Who sees what: the persons of a record made anonymously (an anonymous informant) are shown to
no one (domain/anonymity.py); other personal data is shown as recorded to legal (法制),
supervisor (督察) and system callers, and masked for leader, department_head and handler:
name 王小明 → 王**, phone 13812341234 → 138****1234, id_number → first 6 + **** + last 4. Use
`shown_to(principal, value)` on anything that holds case state or event bodies (case detail,
history, a rectification's source case), or `mask_personal_data(value)` to mask regardless of
role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from casestream.credentials import Principal, Role
from casestream.domain.anonymity import PERSON_FIELDS, without_anonymous_persons

UNMASKED_ROLES = frozenset({Role.legal, Role.supervisor, Role.system})
"""Roles that need the personal data of named persons as recorded (legal review, 督察
inspection, system sync); an anonymous person is withheld from them too."""

T = TypeVar("T")


def mask_name(name: str) -> str:
    """王小明 → 王**: the first character stays."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else name


def mask_phone(phone: str) -> str:
    """13812341234 → 138****1234; a short number keeps only its last two characters."""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(1, len(phone) - 2) + phone[-2:]


def mask_id_number(id_number: str) -> str:
    """110101199001011234 → 110101****1234 (region code and last four only)."""
    if len(id_number) >= 10:
        return id_number[:6] + "****" + id_number[-4:]
    return "*" * len(id_number)


_MASKERS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}


def mask_person(person: Mapping[str, Any]) -> dict[str, Any]:
    """A person (name, phone, id_number) with each present string field masked."""
    return {
        key: _MASKERS[key](value) if key in _MASKERS and isinstance(value, str) else value
        for key, value in person.items()
    }


def mask_personal_data(value: T) -> T:
    """A copy of `value` (JSON-like: dicts, lists, scalars) with every person in it masked and
    every anonymous person withheld."""
    return _masked(without_anonymous_persons(value))


def _masked(value: T) -> T:
    if isinstance(value, Mapping):
        return {  # type: ignore[return-value]
            key: mask_person(item)
            if key in PERSON_FIELDS and isinstance(item, Mapping)
            else _masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_masked(item) for item in value)
    return value


def sees_personal_data(principal: Principal) -> bool:
    """Whether `principal` sees the personal data of named (not anonymous) persons unmasked."""
    return principal.role in UNMASKED_ROLES


def shown_to(principal: Principal, value: T) -> T:
    """`value` as `principal` may see it: anonymous persons withheld from every role; the other
    persons as recorded for UNMASKED_ROLES, masked for the rest."""
    if sees_personal_data(principal):
        return without_anonymous_persons(value)
    return mask_personal_data(value)
