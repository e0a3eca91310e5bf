"""Write a local development key into ``.env`` once (``make run`` calls this).

A development key lets ``make run`` encrypt at rest from the first start; production refuses to
start without ``OPSTAP_SECRET_KEY`` (see :mod:`bot.settings`). An existing key is never
replaced: that would make stored data unreadable.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path


def ensure_dev_key(
    path: Path,
    *,
    kid: str = "dev1",
    note: str = "Local development key (written by make run). Never reuse it.",
) -> bool:
    """Append ``OPSTAP_SECRET_KEY`` to ``path`` unless present; True when written."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(line.startswith("OPSTAP_SECRET_KEY=") for line in existing.splitlines()):
        return False
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    # Created owner-only before the key is written: never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(f"{prefix}# {note}\n")
        handle.write(f"OPSTAP_SECRET_KEY={kid}:{key}\n")
    path.chmod(0o600)
    return True


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
    if ensure_dev_key(target):
        print(f"opstap: wrote a development key to {target}", file=sys.stderr)
