"""The rules of staff accounts: usernames, passwords, the lock-out, and argon2 hashing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casestream.domain.staff import (
    AccountRefused,
    LockOut,
    check_password,
    check_username,
)
from casestream.producers.simulation import DEPARTMENTS
from casestream.staff import (
    DEMO_DEPARTMENT,
    account_role,
    hash_password,
    no_account_matches,
    password_matches,
)

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


def test_a_password_needs_at_least_ten_characters_and_at_most_128() -> None:
    with pytest.raises(AccountRefused, match="at least 10"):
        check_password("short-pw1")
    assert check_password("x" * 10) == "x" * 10
    with pytest.raises(AccountRefused, match="128"):
        check_password("x" * 129)


@pytest.mark.parametrize("name", ["", "a b", "api-key:x", "x" * 65, "名\n字"])
def test_a_username_is_short_and_free_of_separators(name: str) -> None:
    with pytest.raises(AccountRefused):
        check_username(name)


def test_a_username_may_be_chinese_or_a_staff_number() -> None:
    assert check_username("张三") == "张三"
    assert check_username("po.1234-x_y") == "po.1234-x_y"


def test_five_wrong_passwords_in_a_row_lock_for_the_duration_and_the_count_starts_again() -> None:
    rule = LockOut(max_failures=5, duration=timedelta(minutes=15))
    failures, locked = 0, None
    for _ in range(4):
        failures, locked = rule.after_failure(failures, NOW)
        assert locked is None
    assert failures == 4
    failures, locked = rule.after_failure(failures, NOW)
    assert (failures, locked) == (0, NOW + timedelta(minutes=15))
    assert rule.locked(locked, NOW + timedelta(minutes=14, seconds=59))
    assert not rule.locked(locked, NOW + timedelta(minutes=15))


def test_a_hash_verifies_its_password_only_and_holds_no_clear_text() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert password_matches(stored, "correct horse battery")
    assert not password_matches(stored, "correct horse batterY")
    assert not password_matches("not a hash", "correct horse battery")
    assert not no_account_matches("correct horse battery")


def test_an_unknown_role_lists_the_roles_and_a_department_role_needs_its_department() -> None:
    with pytest.raises(AccountRefused, match="handler, department_head, legal"):
        account_role("boss", None)
    with pytest.raises(AccountRefused, match="--department"):
        account_role("handler", None)
    assert account_role("leader", None) == (account_role("leader", None)[0], None)


def test_the_demo_department_is_one_the_simulated_cases_use() -> None:
    assert DEMO_DEPARTMENT in DEPARTMENTS


def test_a_session_signs_in_its_account_with_its_role_and_department_as_the_actor() -> None:
    from casestream.api.sessions import session_principal
    from casestream.domain.commands import Role
    from casestream.read_models.staff_sessions import OpenSession

    session = OpenSession("li.ming", Role.handler, "治安大队", "t", NOW, NOW)
    principal = session_principal(session)
    assert (principal.subject, principal.role, principal.department) == (
        "li.ming",
        Role.handler,
        "治安大队",
    )
    assert principal.source == "console"
