"""`casestream user …`: the staff accounts that sign in to the web console (/console/), kept
in the read-model database (CASESTREAM_DATABASE_URL)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from casestream.settings import Settings

if TYPE_CHECKING:
    from casestream.read_models.staff_accounts import StaffAccounts

user_app = typer.Typer(help="Staff accounts of the web console.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)  # messages name commands: keep them whole
out = Console()

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="read the password from the first line of standard input instead of prompting",
    ),
]


def _accounts() -> StaffAccounts:
    from casestream.read_models.database import create_engine, migrate
    from casestream.read_models.staff_accounts import StaffAccounts

    settings = Settings()
    engine = create_engine(settings.database_url, settings.database_schema)
    migrate(engine)
    return StaffAccounts(engine)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(message, style="red", markup=False)
    return typer.Exit(code)


def _new_password(from_stdin: bool) -> str:
    """The password to set, checked (AccountRefused says why it is refused)."""
    from casestream.domain.staff import check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return check_password(password)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[
        str, typer.Option(help="handler, department_head, legal, supervisor, leader or system")
    ],
    department: Annotated[
        str | None,
        typer.Option(help="the account's department; required for handler and department_head"),
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add an account that may sign in to the console with ROLE (and DEPARTMENT)."""
    from casestream.domain.staff import AccountRefused, check_username
    from casestream.read_models.staff_accounts import AccountExists
    from casestream.staff import account_role, add_account

    try:
        check_username(username)
        account_role(role, department)  # before asking for a password
        password = _new_password(password_stdin)
        account = add_account(
            _accounts(),
            username,
            role=role,
            department=department,
            password=password,
            now=datetime.now(UTC),
        )
    except AccountRefused as exc:
        raise _fail(str(exc)) from exc
    except AccountExists as exc:
        raise _fail(
            f"an account {username!r} exists already; choose another name, or change its "
            f"password with `casestream user passwd {username}`"
        ) from exc
    where = f" of {account.department}" if account.department else ""
    out.print(f"added {account.username} ({account.role.value}{where})", markup=False)


def _unknown(username: str) -> typer.Exit:
    return _fail(f"no account {username!r}; see `casestream user list`", 1)


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Refuse the account's sign-ins from now on, and end its open sessions at once."""
    from casestream.read_models.staff_accounts import UnknownAccount

    try:
        _accounts().set_disabled(username, True, now=datetime.now(UTC))
    except UnknownAccount as exc:
        raise _unknown(username) from exc
    out.print(f"disabled {username}; its sessions are ended", markup=False)


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Let a disabled account sign in again."""
    from casestream.read_models.staff_accounts import UnknownAccount

    try:
        _accounts().set_disabled(username, False, now=datetime.now(UTC))
    except UnknownAccount as exc:
        raise _unknown(username) from exc
    out.print(f"enabled {username}", markup=False)


@user_app.command("passwd")
def user_passwd(username: str, password_stdin: PasswordStdin = False) -> None:
    """Set a new password: the account's lock-out is lifted and its sessions end."""
    from casestream.domain.staff import AccountRefused
    from casestream.read_models.staff_accounts import UnknownAccount
    from casestream.staff import hash_password

    accounts = _accounts()
    if accounts.find(username) is None:
        raise _unknown(username)
    try:
        password_hash = hash_password(_new_password(password_stdin))
        accounts.set_password_hash(username, password_hash, now=datetime.now(UTC))
    except AccountRefused as exc:
        raise _fail(str(exc)) from exc
    except UnknownAccount as exc:
        raise _unknown(username) from exc
    out.print(f"new password set for {username}; its sessions are ended", markup=False)


@user_app.command("list")
def user_list() -> None:
    """The accounts: role, department, whether disabled or locked out (no password hashes)."""
    now = datetime.now(UTC)
    table = Table("username", "role", "department", "state", "created")
    for account in _accounts().all():
        if account.disabled:
            state = "disabled"
        elif account.locked_until is not None and account.locked_until > now:
            state = f"locked until {account.locked_until:%Y-%m-%d %H:%M} UTC"
        else:
            state = "enabled"
        table.add_row(
            account.username,
            account.role.value,
            account.department or "—",
            state,
            f"{account.created_at:%Y-%m-%d}",
        )
    out.print(table)
