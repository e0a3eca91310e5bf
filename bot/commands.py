"""The commands young people can type, shared by every channel.

Telegram shows them in the menu (per language, set at start-up); the web chat accepts the same
``/name`` texts. Descriptions are message ids (``command.<name>``).
"""

from __future__ import annotations

from datetime import datetime

from flows.inputs import CommandReceived

COMMANDS: tuple[str, ...] = (
    "start",
    "hulp",
    "taal",
    "privacy",
    "mijngegevens",
    "wis",
    "stop",
    "opnieuw",
)
# Other spellings people type, mapped to the command they mean.
ALIASES = {"help": "hulp", "language": "taal", "restart": "opnieuw", "mydata": "mijngegevens"}


def parse_command(text: str, at: datetime) -> CommandReceived | None:
    """``/Stop@opstap_bot now`` -> CommandReceived("stop", "now"); anything else -> None."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    # Any whitespace ends the command's name: "/overdracht\n12 ..." is a command with lines.
    head, *rest = stripped[1:].split(maxsplit=1)
    args = rest[0] if rest else ""
    name = head.split("@", 1)[0].lower()
    if not name.isascii() or not name.replace("_", "").isalnum():
        return None
    return CommandReceived(ALIASES.get(name, name), args.strip(), at)
