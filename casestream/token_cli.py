"""`casestream token …`: bearer tokens for the HTTP API, signed with the API's secret
(CASESTREAM_AUTH_SECRET, else the one `casestream up` generated)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from casestream.settings import Settings

token_app = typer.Typer(help="Bearer tokens for the HTTP API.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)  # messages name commands: keep them whole


@token_app.command("issue")
def token_issue(
    role: Annotated[
        str,
        typer.Option(help="handler, department_head, legal, supervisor, leader or system"),
    ],
    department: Annotated[
        str | None,
        typer.Option(help="the caller's department; required for handler and department_head"),
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="who the token is for (staff id); default: ROLE-cli")
    ] = None,
    ttl: Annotated[str, typer.Option(help="lifetime: 30m, 8h, 7d, 1w")] = "8h",
) -> None:
    """Print a bearer token signed with the API's secret: CASESTREAM_AUTH_SECRET, else the one
    `casestream up` generated into var/auth-secret."""
    from casestream.credentials import (
        DEPARTMENT_ROLES,
        ROLE_NAMES,
        AuthConfigError,
        InvalidCredentials,
        Principal,
        issue_token,
        signing_secret,
    )
    from casestream.domain.commands import Role
    from casestream.durations import BadDuration, parse_duration

    if role not in {known.value for known in Role}:
        err.print(f"unknown role {role!r}; choose one of: {ROLE_NAMES}", style="red", markup=False)
        raise typer.Exit(2)
    if Role(role) in DEPARTMENT_ROLES and not department:
        err.print(f"a {role} sees one department's cases: give --department D", style="red")
        raise typer.Exit(2)
    try:
        lifetime = parse_duration(ttl)
    except BadDuration as exc:
        err.print(f"--ttl: {exc}", style="red", markup=False)
        raise typer.Exit(2) from exc
    principal = Principal(subject or f"{role}-cli", Role(role), department)
    try:
        token = issue_token(
            signing_secret(Settings()), principal, now=datetime.now(UTC), ttl=lifetime
        )
    except InvalidCredentials as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    except AuthConfigError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from exc
    print(token)
