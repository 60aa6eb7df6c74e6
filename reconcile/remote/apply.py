"""Apply: the only code that writes to PB.

Changes run in phases, whatever order they are given in: product creates and updates
(ITEM products, then KIT products, through the bulk endpoint in batches), then BOM
writes one request each, concurrently within the client's limits, then product
deactivations last (so no BOM still uses a product when it turns inactive). A change
whose dependency (``depends_on``) did not succeed is skipped, never attempted. Every
write is confirmed by re-reading what it wrote before it is reported done, so the
report says what PB holds, not what it answered. A failure never stops independent
work: the report lists each resource as done, failed (with PB's words and transaction
id) or skipped, and running apply again finishes the job.

Ctrl-C (the task being cancelled) stops new writes, lets the writes in flight finish,
confirms them, and reports the rest as not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from reconcile.errors import RemoteError, ValidationFailed
from reconcile.models import Bom, Product, comparable
from reconcile.models.kinds import KINDS
from reconcile.plan.freshness import ALREADY_APPLIED, check_client
from reconcile.plan.order import apply_phases
from reconcile.remote import wire
from reconcile.remote.fetch import read_boms, read_products
from reconcile.remote.progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    from reconcile.plan.change import Change
    from reconcile.remote.client import PBClient

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

    def with_status(self, status: Status) -> list[ChangeResult]:
        return [r for r in self.results if r.status == status]

    @property
    def succeeded(self) -> bool:
        return not self.interrupted and all(r.status == "done" for r in self.results)

    def counts(self) -> dict[Status, int]:
        statuses: tuple[Status, ...] = ("done", "failed", "skipped", "not started")
        return {s: len(self.with_status(s)) for s in statuses}

    @property
    def already_applied(self) -> int:
        """How many of the done changes PB already held before this run (no write)."""
        return sum(1 for r in self.results if r.status == "done" and r.message == ALREADY_APPLIED)


@dataclass(frozen=True)
class _WriteError:
    """Why a write failed, as PB put it."""

    message: str
    transaction_id: str = ""

    @classmethod
    def of(cls, error: RemoteError) -> _WriteError:
        said = "; ".join(str(d) for d in error.details)
        status = f"HTTP {error.status}: " if error.status is not None else ""
        return cls(f"{status}{said or error.message}", error.transaction_id)


class _Stopped(Exception):
    """Raised instead of starting a write once the run is being interrupted."""


async def apply_changes(
    client: PBClient,
    changes: Sequence[Change],
    *,
    client_id: str,
    already_applied: Collection[str] = frozenset(),
    bulk_size: int = wire.BULK_MAX_ITEMS,
    progress: Progress = NO_PROGRESS,
) -> ApplyReport:
    """Make PB hold each change's ``after``; report per resource, never raise per resource.

    ``client_id`` is the client this run writes for: a change keyed to (or holding)
    another client refuses the whole run before any write. ``already_applied`` names
    changes a re-read found PB already holding (see ``plan.freshness``): they are
    reported done without a write.
    """
    check_client(changes, client_id)
    run = _Run(client, changes, progress)
    run.mark_applied(already_applied)
    try:
        await run.execute(min(bulk_size, wire.BULK_MAX_ITEMS))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()  # handled here: what follows must be able to await again
        await run.stop()
        return run.report(interrupted=True)
    return run.report(interrupted=False)


class _Run:
    def __init__(self, client: PBClient, changes: Sequence[Change], progress: Progress) -> None:
        self.client = client
        self.changes = list(changes)
        self.progress = progress
        self.results: dict[str, ChangeResult] = {}
        self.attempted: dict[str, Change] = {}
        self.errors: dict[str, _WriteError] = {}
        self.created_bom_ids: dict[str, str] = {}
        self.in_flight: set[asyncio.Task[None]] = set()
        self.stopping = False
        self.gate = asyncio.Semaphore(client.limits.max_in_flight)
        self.requests_before = client.request_count
        self.planned = {c.address for c in self.changes}

    # -- the order of work -----------------------------------------------------------

    async def execute(self, bulk_size: int) -> None:
        """The phases of ``plan.order``: product writes (ITEM, then KIT) → BOM writes →
        product deactivations (a product PB holds active and this run makes inactive, by
        prune or a declared ``active: false``, goes last, once no BOM written here uses it).
        """
        self.progress.update("apply", total=len(self.changes), advance=len(self.results))
        todo = [c for c in self.changes if c.address not in self.results]
        writers: dict[str, Callable[[list[Change]], Awaitable[None]]] = {
            "product": partial(self._products, bulk_size=bulk_size),
            "bom": self._boms,
        }
        for kind, changes in apply_phases(todo):
            await writers[kind](changes)
        self.progress.done("apply")

    async def stop(self) -> None:
        """Start nothing new, let writes in flight land, then confirm what they did."""
        self.stopping = True
        if self.in_flight:
            await asyncio.wait(self.in_flight)
        unconfirmed = [c for a, c in self.attempted.items() if a not in self.results]
        confirmers = {"product": self._confirm_products, "bom": self._confirm_boms}
        for kind in KINDS:
            await confirmers[kind.name]([c for c in unconfirmed if c.kind == kind.name])

    def report(self, *, interrupted: bool) -> ApplyReport:
        results = [
            self.results.get(c.address)
            or ChangeResult(c.address, c.action, "not started", "interrupted before it started")
            for c in self.changes
        ]
        requests = self.client.request_count - self.requests_before
        return ApplyReport(results=results, interrupted=interrupted, requests=requests)

    def mark_applied(self, addresses: Collection[str]) -> None:
        """Report these changes done without a write: PB already holds their after."""
        for change in self.changes:
            if change.address in addresses:
                self._record(change, "done", ALREADY_APPLIED)

    # -- products --------------------------------------------------------------------

    async def _products(self, changes: list[Change], bulk_size: int) -> None:
        runnable = [c for c in changes if self._dependencies_met(c)]
        batches = [runnable[i : i + bulk_size] for i in range(0, len(runnable), bulk_size)]
        await _all(self._product_batch(b) for b in batches)

    async def _product_batch(self, batch: list[Change]) -> None:
        await self._write(batch, lambda: self._bulk(batch))
        await self._confirm_products(batch)

    async def _bulk(self, batch: list[Change]) -> None:
        items = [wire.bulk_item(_product(c), _bulk_operation(c)) for c in batch]
        try:
            answer = await self.client.bulk_products(items)
        except ValidationFailed:
            # PB rejects a whole bulk request for one bad item (contract §6.3), and its
            # error does not reliably say which. Writing that batch one product at a time
            # costs up to 200 requests once, but lets the good items land and pins PB's
            # error text on the bad one, so one typo never fails 199 good products.
            await _all(self._single_product(c) for c in batch)
            return
        except RemoteError as e:
            # Outcome unknown (e.g. retries exhausted): the re-read decides what landed.
            for change in batch:
                self.errors[change.address] = _WriteError.of(e)
            return
        self._note_item_statuses(batch, answer)

    async def _single_product(self, change: Change) -> None:
        product = _product(change)
        try:
            if change.action == "create":
                await self.client.create_product(wire.product_to_wire(product))
            else:
                await self.client.update_product(product.sku, wire.product_to_wire(product))
        except RemoteError as e:
            self.errors[change.address] = _WriteError.of(e)

    def _note_item_statuses(self, batch: list[Change], answer: Any) -> None:
        """Keep PB's per-item words for the items a re-read then finds not written."""
        for sku, text in wire.bulk_item_problems(answer).items():
            for change in batch:
                if change.key["sku"] == sku:
                    self.errors.setdefault(change.address, _WriteError(text))

    async def _confirm_products(self, changes: list[Change]) -> None:
        if not changes:
            return
        try:
            found = await read_products(
                self.client, changes[0].key["clientId"], [c.key["sku"] for c in changes]
            )
        except RemoteError as e:
            self._unconfirmed(changes, e)
            return
        for change in changes:
            observed = found.get(change.key["sku"])
            self._settle(change, None if observed is None else observed[0], _product(change))

    # -- BOMs ------------------------------------------------------------------------

    async def _boms(self, changes: list[Change]) -> None:
        runnable = [c for c in changes if self._dependencies_met(c)]
        await _all(self._write([c], partial(self._bom_write, c)) for c in runnable)
        await self._confirm_boms(runnable)

    def _dependencies_met(self, change: Change) -> bool:
        """A dependency planned in this run must be done first; one outside it is PB's."""
        for dependency in change.depends_on:
            outcome = self.results.get(dependency)
            if outcome is not None and outcome.status != "done":
                self._record(change, "skipped", f"dependency {dependency} {outcome.status}")
                return False
            if outcome is None and dependency in self.planned:
                self._record(change, "skipped", f"dependency {dependency} was not applied first")
                return False
        return True

    async def _bom_write(self, change: Change) -> None:
        body = wire.bom_to_wire(_bom(change))
        try:
            if change.action == "create":
                answer = await self.client.create_bom(body)
                bom_id = wire.bom_id_of(answer) if isinstance(answer, dict) else None
                if bom_id is not None:
                    self.created_bom_ids[change.address] = bom_id
            else:
                await self.client.update_bom(_remote_id(change), body)
        except RemoteError as e:
            self.errors[change.address] = _WriteError.of(e)

    async def _confirm_boms(self, changes: list[Change]) -> None:
        if not changes:
            return
        try:
            found = await read_boms(
                self.client, changes[0].key["clientId"], [c.key["sku"] for c in changes]
            )
        except RemoteError as e:
            self._unconfirmed(changes, e)
            return
        by_id = {meta.bom_id: bom for bom, meta in found if meta.bom_id is not None}
        by_key = {bom.key.address: bom for bom, _ in found}
        for change in changes:
            bom_id = change.remote_id or self.created_bom_ids.get(change.address)
            observed = by_id.get(bom_id) if bom_id else by_key.get(change.address)
            self._settle(change, observed, _bom(change))

    # -- bookkeeping -----------------------------------------------------------------

    async def _write(
        self, changes: list[Change], write: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        """Run one write so that cancelling the caller lets it finish (see ``stop``).

        The gate admits as many writes as the client lets fly at once, so "in flight"
        means sent: writes still queued behind it are cancelled by Ctrl-C, not started.
        """
        async with self.gate:
            if self.stopping:
                raise _Stopped
            for change in changes:
                self.attempted[change.address] = change
            task = asyncio.ensure_future(write())
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
            await asyncio.shield(task)

    def _settle(
        self, change: Change, observed: Product | Bom | None, wanted: Product | Bom
    ) -> None:
        # Compared as the plan's diff compares (absent and null alike), so a write that
        # converged is done even if PB drops or adds null fields.
        if observed is not None and comparable(observed) == comparable(wanted):
            self._record(change, "done")
            return
        error = self.errors.get(change.address)
        if error is not None:
            self._record(change, "failed", error.message, error.transaction_id)
        elif observed is None:
            self._record(change, "failed", "PB accepted the write, but a re-read does not find it")
        else:
            fields = _differing_fields(observed, wanted)
            self._record(
                change, "failed", f"PB accepted the write, but a re-read shows other {fields}"
            )

    def _unconfirmed(self, changes: list[Change], error: RemoteError) -> None:
        """The re-read failed: what landed is unknown, so nothing is reported done."""
        said = _WriteError.of(error)
        for change in changes:
            own = self.errors.get(change.address) or _WriteError(
                f"written, but the confirming re-read failed ({said.message})",
                said.transaction_id,
            )
            self._record(change, "failed", own.message, own.transaction_id)

    def _record(self, change: Change, status: Status, message: str = "", txn: str = "") -> None:
        self.results[change.address] = ChangeResult(
            change.address, change.action, status, message, txn
        )
        self.progress.update("apply", advance=1)


async def _all(coroutines: Iterable[Awaitable[None]]) -> None:
    """Run concurrently; an interruption stops new writes, not the ones already started."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    if not tasks:
        return
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, _Stopped):
            raise result


def _bulk_operation(change: Change) -> str:
    return wire.BULK_CREATE if change.action == "create" else wire.BULK_UPDATE


def _product(change: Change) -> Product:
    model = change.after_model()
    assert isinstance(model, Product), f"{change.address}: a product change holds a BOM"
    return model


def _bom(change: Change) -> Bom:
    model = change.after_model()
    assert isinstance(model, Bom), f"{change.address}: a BOM change holds a product"
    return model


def _remote_id(change: Change) -> str:
    if change.remote_id is None:
        raise RemoteError(
            "the plan names no billOfMaterialId for this BOM update; make the plan again",
            operation="apply",
            resource=change.address,
        )
    return change.remote_id


def _differing_fields(observed: Product | Bom, wanted: Product | Bom) -> str:
    have, want = comparable(observed), comparable(wanted)
    names = sorted(k for k in have.keys() | want.keys() if have.get(k) != want.get(k))
    return "values for " + ", ".join(names) if names else "values"
