"""The apply report: one outcome per planned change, and why a write failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reconcile.errors import RemoteError
from reconcile.plan.freshness import ALREADY_APPLIED

Status = Literal["done", "failed", "skipped", "not started"]


@dataclass(frozen=True)
class ChangeResult:
    """The outcome of one planned change."""

    address: str
    action: str
    status: Status
    message: str = ""
    transaction_id: str = ""


@dataclass
class ApplyReport:
    results: list[ChangeResult] = field(default_factory=list)
    interrupted: bool = False
    requests: int = 0
    #: Why the run stopped writing on purpose (PB's BOM search cannot see new BOMs): a
    #: rerun would not finish the job, so the report says this instead of "apply again".
    halted: str | None = None

    def with_status(self, status: Status) -> list[ChangeResult]:
        return [r for r in self.results if r.status == status]

    @property
    def succeeded(self) -> bool:
        return not self.interrupted and all(r.status == "done" for r in self.results)

    def counts(self) -> dict[Status, int]:
        statuses: tuple[Status, ...] = ("done", "failed", "skipped", "not started")
        return {s: len(self.with_status(s)) for s in statuses}

    def notes(self) -> list[ChangeResult]:
        """Done changes with something to say (a BOM adopted, a duplicate resolved)."""
        return [r for r in self.with_status("done") if r.message and r.message != ALREADY_APPLIED]

    @property
    def already_applied(self) -> int:
        """How many of the done changes PB already held before this run (no write)."""
        return sum(1 for r in self.results if r.status == "done" and r.message == ALREADY_APPLIED)


@dataclass(frozen=True)
class WriteError:
    """Why a write failed, as PB put it."""

    message: str
    transaction_id: str = ""

    @classmethod
    def of(cls, error: RemoteError) -> WriteError:
        said = "; ".join(str(d) for d in error.details)
        status = f"HTTP {error.status}: " if error.status is not None else ""
        return cls(f"{status}{said or error.message}", error.transaction_id)
