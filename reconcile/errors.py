"""One exception tree for the whole tool; each class carries the process exit code.

::

    ReconcileError (1)                  unexpected / generic failure
    ├── UsageError (64)                 bad command-line usage the parser could not catch
    │   └── PlanFileError (64)          a file given as a saved plan is not one we can read
    ├── CatalogError (3)                the catalog (YAML or reconcile.yaml) is invalid
    │   └── SettingsError (3)           reconcile.yaml itself is invalid
    ├── RemoteError (4)                 anything PB (or the sandbox) answered badly
    │   ├── AuthError (4)               credentials missing or rejected
    │   ├── NotFoundError (4)           404 on a resource
    │   ├── ValidationFailed (4)        400 with PB's error parameters
    │   ├── RateLimited (4)             429 after every retry
    │   ├── Unavailable (4)             5xx / network faults after every retry
    │   ├── InsecureTransport (4)       plain http to a non-loopback host
    │   ├── RemoteStateError (4)        remote state we cannot plan against
    │   │                               (e.g. two BOMs with one (sku, node) key)
    │   └── LocalSandboxError (4)       the embedded sandbox's state (<catalog>/.reconcile/)
    │                                   is unusable, or in use by another run
    ├── UnsafePlan (6)                  a safety threshold refused the plan
    └── StalePlan (7)                   a saved plan no longer matches PB

Exit codes 0 (ok / no changes), 2 (changes present, ``--detailed-exitcode``) and 5
(an apply ran but some changes failed: the per-resource report says which) are results,
not errors, and so have no class here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INVALID = 3
EXIT_REMOTE = 4
EXIT_APPLY_FAILED = 5
EXIT_UNSAFE = 6
EXIT_STALE = 7
EXIT_USAGE = 64


class ReconcileError(Exception):
    """Base of every error the tool raises on purpose."""

    exit_code = EXIT_ERROR


class UsageError(ReconcileError):
    exit_code = EXIT_USAGE


class PlanFileError(UsageError):
    """A saved plan file is not JSON, not a plan, or of an unsupported format_version."""


@dataclass(frozen=True)
class Problem:
    """One finding about the catalog, located at ``path:line:col``."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}" if where else f"{prefix}{self.message}"


class CatalogError(ReconcileError):
    """The catalog is invalid; carries every problem found, not just the first."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(path="", line=0, col=0, message=problems)]
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid catalog")


class SettingsError(CatalogError):
    """reconcile.yaml is missing a value, or holds a wrong one."""


@dataclass
class RemoteErrorDetail:
    """What PB said about one failure, as read from its unified error object."""

    code: str
    description: str
    parameters: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        params = f" [{', '.join(self.parameters)}]" if self.parameters else ""
        return f"{self.code}: {self.description}{params}"


class RemoteError(ReconcileError):
    """A failed exchange with PB, with everything support needs to trace it."""

    exit_code = EXIT_REMOTE

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        resource: str = "",
        status: int | None = None,
        details: Sequence[RemoteErrorDetail] = (),
        transaction_id: str = "",
    ) -> None:
        self.message = message
        self.operation = operation
        self.resource = resource
        self.status = status
        self.details = list(details)
        self.transaction_id = transaction_id
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.operation:
            parts.append(self.operation)
        if self.resource:
            parts.append(self.resource)
        head = " ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.status is not None:
            text += f" (HTTP {self.status})"
        if self.details:
            text += "; PB says: " + "; ".join(str(d) for d in self.details)
        if self.transaction_id:
            text += f" [transaction id {self.transaction_id}]"
        return text


class AuthError(RemoteError):
    pass


class NotFoundError(RemoteError):
    pass


class ValidationFailed(RemoteError):
    pass


class RateLimited(RemoteError):
    pass


class Unavailable(RemoteError):
    pass


class InsecureTransport(RemoteError):
    pass


class RemoteStateError(RemoteError):
    pass


class LocalSandboxError(RemoteError):
    """The embedded (``local``) environment's state file is unusable or locked by another run."""


class UnsafePlan(ReconcileError):
    exit_code = EXIT_UNSAFE


class StalePlan(ReconcileError):
    exit_code = EXIT_STALE
