"""What a host running the emulator in-process needs beside the app: a copy of its state."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_state(source: Path, target: Path) -> None:
    """Copy the store file ``source`` to ``target`` (replaced if present), consistently
    even while the source is in use (SQLite's online backup)."""
    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
