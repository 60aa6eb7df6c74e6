"""The apply report: one outcome per planned change, and why a write failed; and the
machine-readable summary of a run (``apply --summary-json``, ``schemas/apply-summary``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reconcile.errors import RemoteError
from reconcile.plan.freshness import ALREADY_APPLIED

Status = Literal["done", "failed", "skipped", "not started"]
STATUSES: tuple[Status, ...] = ("done", "failed", "skipped", "not started")


@dataclass(frozen=True)
class ChangeResult:
    """The outcome of one planned change."""

    address: str
    action: str
    status: Status
    message: str = ""
    transaction_id: str = ""
    #: PB's error code(s) of a failed write (``"; "``-joined when PB gave several).
    code: str = ""
    #: The planned change that did not succeed, for a skipped one.
    dependency: str = ""


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
        return {s: len(self.with_status(s)) for s in STATUSES}

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
    code: str = ""

    @classmethod
    def of(cls, error: RemoteError) -> WriteError:
        said = "; ".join(str(d) for d in error.details)
        status = f"HTTP {error.status}: " if error.status is not None else ""
        code = "; ".join(d.code for d in error.details if d.code)
        return cls(f"{status}{said or error.message}", error.transaction_id, code)


# ---- apply --summary-json -----------------------------------------------------------------

SUMMARY_FORMAT_VERSION = "1.0"

Outcome = Literal[
    "applied", "partly failed", "interrupted", "no changes", "cancelled", "refused", "error"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WriteFailure(_Strict):
    """What PB said about a failed write."""

    code: str | None = Field(description="PB's error code(s), null when PB sent none")
    message: str
    transaction_id: str | None = Field(description="X-PB-TransactionId, for PB support")


class ResourceOutcome(_Strict):
    address: str
    kind: Literal["product", "bom"]
    action: str
    status: Status
    already_applied: bool = Field(description="done without a write: PB already held it")
    error: WriteFailure | None = Field(description="for a failed change")
    skipped_because: str | None = Field(
        description="for a skipped change: the address of the dependency that did not succeed"
    )
    detail: str | None = Field(description="the report's words for this outcome, if any")


class ApplySummary(_Strict):
    """What an apply did, for a pipeline: written by ``apply --summary-json FILE``."""

    format_version: str = SUMMARY_FORMAT_VERSION
    environment: str | None
    client_id: str | None
    fingerprint: str | None = Field(description="the applied plan's sha256 fingerprint")
    outcome: Outcome
    exit_code: int
    error: str | None = Field(description="why nothing was applied (refused, error)")
    halted: str | None = Field(
        default=None,
        description="why the run stopped writing on purpose (PB's BOM search cannot see "
        "new BOMs): running apply again would not finish the job",
    )
    counts: dict[str, int] = Field(
        description="done, failed, skipped, not_started, already_applied"
    )
    requests: int = Field(description="HTTP requests the writes and confirmations took")
    resources: list[ResourceOutcome]

    @classmethod
    def of_report(
        cls,
        report: ApplyReport | None,
        *,
        outcome: Outcome,
        exit_code: int,
        where: tuple[str | None, str | None, str | None] = (None, None, None),
        error: str | None = None,
    ) -> ApplySummary:
        """``where``: (environment, client id, plan fingerprint), each when known."""
        results = report.results if report is not None else []
        counts = {s.replace(" ", "_"): 0 for s in STATUSES}
        for result in results:
            counts[result.status.replace(" ", "_")] += 1
        counts["already_applied"] = report.already_applied if report is not None else 0
        environment, client_id, fingerprint = where
        return cls(
            environment=environment,
            client_id=client_id,
            fingerprint=fingerprint,
            outcome=outcome,
            exit_code=exit_code,
            error=error,
            halted=report.halted if report is not None else None,
            counts=counts,
            requests=report.requests if report is not None else 0,
            resources=[_outcome(r) for r in results],
        )


def _outcome(result: ChangeResult) -> ResourceOutcome:
    failure = None
    if result.status == "failed":
        failure = WriteFailure(
            code=result.code or None,
            message=result.message,
            transaction_id=result.transaction_id or None,
        )
    return ResourceOutcome(
        address=result.address,
        kind="bom" if result.address.startswith("bom.") else "product",
        action=result.action,
        status=result.status,
        already_applied=result.status == "done" and result.message == ALREADY_APPLIED,
        error=failure,
        skipped_because=result.dependency or None,
        detail=result.message or None,
    )
