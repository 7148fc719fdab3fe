"""A mail server on this machine for the notification tests (aiosmtpd): it takes mail only
from the notifier's account (SMTP_LOGIN) and keeps each message it is handed."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SMTP_LOGIN = ("casestream", "smtp-p4ss")


class Mailbox:
    """An aiosmtpd handler keeping each message it is handed."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.delay = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(bytes(item.content or b""), policy=email.policy.default)
            for item in self.envelopes
        ]


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    given = (
        (auth_data.login.decode(), auth_data.password.decode())
        if isinstance(auth_data, LoginPassword)
        else None
    )
    return AuthResult(success=given == SMTP_LOGIN)


@contextmanager
def local_smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """The server's mailbox and port, from start to stop."""
    with socket.socket() as probe:  # a free port for the controller
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,  # plain SMTP on this machine: the test has no certificate
    )
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
