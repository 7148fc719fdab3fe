"""The whole command catalogue: importing this module declares every case kind's commands.

`commands.COMMANDS` is filled by the modules below as they are imported; the API and the
tests import this module, not the kinds' modules one by one, so no command is left out.
"""

from __future__ import annotations

from . import (
    complaint_commands,  # noqa: F401
    enforcement_commands,  # noqa: F401
    litigation_commands,  # noqa: F401
    reconsideration_commands,  # noqa: F401
    rectification_commands,  # noqa: F401
    tip_commands,  # noqa: F401
)
from .commands import COMMANDS, Handler

# each case kind's commands, declared on import (one line per module)
KINDS: tuple[str, ...] = (
    "complaint_commands",
    "enforcement_commands",
    "litigation_commands",
    "reconsideration_commands",
    "rectification_commands",
    "tip_commands",
)

__all__ = ["COMMANDS", "KINDS", "Handler"]
