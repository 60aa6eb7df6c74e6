"""``X-PB-TransactionId`` values that PB support can correlate.

Format (at most 25 characters of ``[A-Za-z0-9_-]``, contract §3)::

    <run id>-<operation code><sequence>-<attempt>
    k3f9x0q2ab-BC0004-2

* ``run id``: 10 lowercase letters and digits, shared by every request of one run
  (``PBClient.run_id``; the CLI prints it, so a user can hand it to PB support);
* ``operation code``: two letters naming the PB operation (see ``OPERATION_CODES``);
* ``sequence``: base-36 counter of logical operations in this process, at least 4 digits;
* ``attempt``: 1 for the first HTTP request of that operation, then 2, 3… for each
  retry or re-send after a token refresh.

Every HTTP request therefore carries a different id, and all attempts of one operation
share the prefix up to the last ``-``.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
from collections.abc import Iterator

from reconcile.remote import wire

RUN_ID_LENGTH = 10
_RUN_ID_ALPHABET = string.ascii_lowercase + string.digits
_RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9]{1,10}$")
_ALLOWED = re.compile(r"^[A-Za-z0-9_-]+$")
_BASE36 = string.digits + string.ascii_uppercase

OPERATION_CODES: dict[str, str] = {
    "token": "TK",
    "product.create": "PC",
    "product.update": "PU",
    "product.bulk": "PB",
    "product.get": "PG",
    "product.search": "PS",
    "bom.create": "BC",
    "bom.update": "BU",
    "bom.get": "BG",
    "bom.search": "BS",
    "inventory.snapshot": "IS",
    "merchants": "MC",
    "probe": "PR",
}

# One counter per run id for the whole process: two clients sharing a run id still never
# hand out the same id.
_SEQUENCES: dict[str, Iterator[int]] = {}


def new_run_id() -> str:
    """A fresh random run id (10 characters, about 52 bits of randomness)."""
    return "".join(secrets.choice(_RUN_ID_ALPHABET) for _ in range(RUN_ID_LENGTH))


def check_run_id(run_id: str) -> str:
    if not _RUN_ID_PATTERN.match(run_id):
        raise ValueError(f"run id {run_id!r} must be 1-10 letters or digits")
    return run_id


def _base36(number: int, width: int = 4) -> str:
    digits = ""
    while number or not digits:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
    return digits.rjust(width, "0")


class OperationIds:
    """The transaction ids of one logical operation: one per attempt."""

    def __init__(self, stem: str) -> None:
        self._stem = stem
        self._attempts = itertools.count(1)
        self.last = ""

    def next(self) -> str:
        self.last = f"{self._stem}-{next(self._attempts)}"
        if len(self.last) > wire.TRANSACTION_ID_MAX or not _ALLOWED.match(self.last):
            raise ValueError(f"transaction id {self.last!r} breaks PB's rules")  # unreachable
        return self.last


class TransactionIds:
    """Hands out the ids of one run."""

    def __init__(self, run_id: str) -> None:
        self.run_id = check_run_id(run_id)
        self._sequence = _SEQUENCES.setdefault(run_id, itertools.count(1))

    def operation(self, operation: str) -> OperationIds:
        code = OPERATION_CODES[operation]
        return OperationIds(f"{self.run_id}-{code}{_base36(next(self._sequence))}")
