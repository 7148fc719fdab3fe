"""`casestream user …` over real SQLite and PostgreSQL read-model databases, and migration
0012 (staff accounts, sign-ins, sessions) up and down."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from typer.testing import CliRunner

from casestream.cli import app
from casestream.domain.commands import Role
from casestream.read_models.database import MIGRATIONS, create_engine, migrate
from casestream.read_models.schema import staff_accounts
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.staff import demo_accounts, password_matches
from tests.conftest import Database

PASSWORD = "correct horse battery"
STAFF_TABLES = {"staff_accounts", "staff_signins", "staff_sessions"}


def run(database: Database, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["user", *args], input=stdin, env=database.env())
    return result.exit_code, result.output


def stored(database: Database) -> StaffAccounts:
    return StaffAccounts(create_engine(database.url, database.schema))


def test_user_add_stores_an_argon2_hash_never_the_password(database: Database) -> None:
    code, output = run(
        database, "add", "li.ming", "--role", "handler", "--department", "治安大队",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, output
    assert "added li.ming (handler of 治安大队)" in output
    found = stored(database).credentials("li.ming")
    assert found is not None
    assert found.account.role is Role.handler and found.account.department == "治安大队"
    assert not found.account.disabled and found.account.failed_attempts == 0
    assert found.password_hash.startswith("$argon2id$") and PASSWORD not in found.password_hash
    assert password_matches(found.password_hash, PASSWORD)


def test_user_add_prompts_twice_without_password_stdin(database: Database) -> None:
    code, output = run(
        database, "add", "wang", "--role", "legal", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert code == 0, output
    assert "password:" in output and "Repeat for confirmation" in output
    found = stored(database).credentials("wang")
    assert found is not None and password_matches(found.password_hash, PASSWORD)


def test_user_add_errors_name_the_fix(database: Database) -> None:
    code, output = run(database, "add", "x1", "--role", "boss", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "handler, department_head, legal, supervisor, leader" in output
    code, output = run(
        database, "add", "x1", "--role", "handler", "--password-stdin", stdin=PASSWORD
    )
    assert code == 2 and "--department" in output
    code, output = run(database, "add", "x1", "--role", "legal", "--password-stdin", stdin="short")
    assert code == 2 and "at least 10" in output
    assert run(database, "add", "x1", "--role", "legal", "--password-stdin", stdin=PASSWORD)[0] == 0
    code, output = run(database, "add", "x1", "--role", "legal", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "casestream user passwd x1" in output
    code, output = run(database, "disable", "nobody")
    assert code == 1 and "casestream user list" in output


def test_disable_enable_passwd_and_list(database: Database) -> None:
    run(database, "add", "zhao", "--role", "supervisor", "--password-stdin", stdin=PASSWORD)
    accounts = stored(database)
    assert run(database, "disable", "zhao")[0] == 0
    found = accounts.find("zhao")
    assert found is not None and found.disabled
    code, output = run(database, "list")
    assert code == 0 and "zhao" in output and "disabled" in output and "supervisor" in output
    assert "argon2" not in output
    assert run(database, "enable", "zhao")[0] == 0
    found = accounts.find("zhao")
    assert found is not None and not found.disabled
    code, output = run(database, "passwd", "zhao", "--password-stdin", stdin="another password")
    assert code == 0, output
    credentials = accounts.credentials("zhao")
    assert credentials is not None
    assert password_matches(credentials.password_hash, "another password")
    assert not password_matches(credentials.password_hash, PASSWORD)
    code, output = run(database, "list")
    assert "enabled" in output and "another password" not in output


def test_demo_accounts_give_every_role_a_new_password_on_every_run(database: Database) -> None:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    accounts = StaffAccounts(engine)
    first = demo_accounts(accounts, now=datetime.now(UTC))
    assert {account.role for account in first} == set(Role)
    assert {a.department for a in first if a.role in {Role.handler, Role.department_head}} == {
        "治安大队"
    }
    second = demo_accounts(accounts, now=datetime.now(UTC))
    for before, after in zip(first, second, strict=True):
        credentials = accounts.credentials(after.username)
        assert credentials is not None
        assert password_matches(credentials.password_hash, after.password)
        assert not password_matches(credentials.password_hash, before.password)


def test_migration_0012_creates_the_staff_tables_and_its_downgrade_removes_them(
    database: Database,
) -> None:
    engine = create_engine(database.url, database.schema)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    def tables() -> set[str]:
        return set(sa.inspect(engine).get_table_names()) & STAFF_TABLES

    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0011")
    assert tables() == set()
    migrate(engine)
    assert tables() == STAFF_TABLES
    with engine.begin() as conn:
        conn.execute(
            staff_accounts.insert().values(
                username="a", password_hash="h", role="legal", disabled=False, failed_attempts=0,
                created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
            )
        )  # fmt: skip
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0011")
    assert tables() == set()
    migrate(engine)  # and up again
    assert tables() == STAFF_TABLES
