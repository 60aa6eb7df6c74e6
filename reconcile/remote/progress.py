"""How long-running remote work reports progress without printing.

The engine and ``remote/`` never print; they call a ``Progress``. The CLI implements it
with rich progress bars on a terminal (and nothing otherwise); tests use ``NO_PROGRESS``
or a recorder.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """A sink for progress of named tasks ("products", "boms", "apply"...)."""

    def update(self, task: str, *, advance: int = 0, total: int | None = None) -> None:
        """Start ``task`` if new, add ``advance`` done units, and set its total if known."""

    def done(self, task: str) -> None:
        """``task`` has finished."""

    def note(self, message: str) -> None:
        """A diagnostic line for the user (stderr), e.g. which stage is running."""


class _NoProgress:
    def update(self, task: str, *, advance: int = 0, total: int | None = None) -> None:
        pass

    def done(self, task: str) -> None:
        pass

    def note(self, message: str) -> None:
        pass


NO_PROGRESS: Progress = _NoProgress()
