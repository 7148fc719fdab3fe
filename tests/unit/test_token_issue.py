"""`casestream token issue` signs with the secret `casestream up` uses: CASESTREAM_AUTH_SECRET if
set, else the one `up` generated into var/auth-secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
from typer.testing import CliRunner

from casestream.cli import app
from casestream.credentials import signing_secret
from casestream.settings import Settings
from tests.auth import TEST_SECRET

runner = CliRunner()


def _issue(var_dir: Path, auth_secret: str | None = None) -> Any:
    env = {"CASESTREAM_VAR_DIR": str(var_dir), "CASESTREAM_AUTH_SECRET": auth_secret}
    return runner.invoke(app, ["token", "issue", "--role", "legal", "--subject", "法制01"], env=env)


def _claims(token: str, secret: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token.strip(), secret, algorithms=["HS256"])
    return claims


def test_token_issue_after_up_signs_with_the_secret_up_generated(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    generated = signing_secret(Settings(var_dir=var_dir, auth_secret=None), generate=True)
    assert (var_dir / "auth-secret").exists()

    issued = _issue(var_dir)

    assert issued.exit_code == 0, issued.output
    assert _claims(issued.stdout, generated)["sub"] == "法制01"


def test_token_issue_prefers_the_variable_to_the_stored_secret(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    signing_secret(Settings(var_dir=var_dir, auth_secret=None), generate=True)

    issued = _issue(var_dir, auth_secret=TEST_SECRET)

    assert issued.exit_code == 0, issued.output
    assert _claims(issued.stdout, TEST_SECRET)["role"] == "legal"


def test_token_issue_without_any_secret_names_both_fixes_and_creates_none(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"

    issued = _issue(var_dir)

    assert issued.exit_code == 1
    assert issued.stdout == ""
    assert "run `casestream up` once" in issued.stderr
    assert "set CASESTREAM_AUTH_SECRET" in issued.stderr
    assert str(var_dir / "auth-secret") in issued.stderr
    assert not (var_dir / "auth-secret").exists()
