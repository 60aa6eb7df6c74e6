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

A product create PB refuses while a re-read then finds the product is never turned into an
update: when PB holds exactly the planned product (a lost attempt of this run, or an
identical create by another writer) the change is done with a note; otherwise PB held a
product the plan's read did not see, so the change is reported failed as "PB's search hid
this product", pointing to ``reconcile probe`` (the backstop of the window self-check in
``remote/window.py``).

Ctrl-C (the task being cancelled) stops new writes, lets the writes in flight finish,
confirms them, and reports the rest as not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from reconcile.errors import RemoteError, ValidationFailed
from reconcile.models import Bom, Product, comparable
from reconcile.models.kinds import KINDS
from reconcile.plan.freshness import ALREADY_APPLIED, check_client
from reconcile.plan.order import apply_phases
from reconcile.remote import wire
from reconcile.remote.bomwrites import BomWrites
from reconcile.remote.concurrency import Stopped, run_all
from reconcile.remote.fetch import read_products
from reconcile.remote.progress import NO_PROGRESS, Progress
from reconcile.remote.report import ApplyReport, ChangeResult, Status, WriteError

if TYPE_CHECKING:
    from reconcile.plan.change import Change
    from reconcile.remote.client import PBClient


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


#: A create PB refused for a product it turns out to hold: never made an update silently.
HIDDEN = (
    "PB's search hid this product: PB refused to create it ({said}), and it holds a product "
    "with this SKU that the plan's read did not return (or another writer created it "
    "since). Nothing was overwritten. Run `reconcile probe` to check this account's "
    "search, then plan again"
)


#: A create PB refused because it holds exactly the planned product already.
HELD_ALREADY = (
    "PB already holds exactly this product (an earlier attempt of this run whose answer "
    "was lost, or an identical create by another writer): nothing written"
)


def _holds(observed: Product, change: Change) -> bool:
    return comparable(observed) == comparable(change.after_model())


class _Run:
    def __init__(self, client: PBClient, changes: Sequence[Change], progress: Progress) -> None:
        self.client = client
        self.changes = list(changes)
        self.progress = progress
        self.results: dict[str, ChangeResult] = {}
        self.attempted: dict[str, Change] = {}
        self.errors: dict[str, WriteError] = {}
        #: Product creates PB refused (an answer, not a lost request): a re-read that then
        #: finds the product means PB held it already (``HIDDEN``).
        self.refused_creates: set[str] = set()
        self.boms = BomWrites(self)
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
            "bom": self.boms.write,
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
        confirmers = {"product": self._confirm_products, "bom": self.boms.confirm}
        for kind in KINDS:
            await confirmers[kind.name]([c for c in unconfirmed if c.kind == kind.name])

    def report(self, *, interrupted: bool) -> ApplyReport:
        results = [
            self.results.get(c.address)
            or ChangeResult(c.address, c.action, "not started", "interrupted before it started")
            for c in self.changes
        ]
        requests = self.client.request_count - self.requests_before
        halted = None
        if self.boms.blind_to is not None:
            halted = (
                f"PB's BOM search does not show the BOM created for {self.boms.blind_to}, so "
                "no further BOM was created: running apply again would duplicate BOMs. Run "
                "`reconcile probe` to check the BOM search"
            )
        return ApplyReport(
            results=results, interrupted=interrupted, requests=requests, halted=halted
        )

    def mark_applied(self, addresses: Collection[str]) -> None:
        """Report these changes done without a write: PB already holds their after."""
        for change in self.changes:
            if change.address in addresses:
                self.record(change, "done", ALREADY_APPLIED)

    # -- products --------------------------------------------------------------------

    async def _products(self, changes: list[Change], bulk_size: int) -> None:
        runnable = [c for c in changes if self.dependencies_met(c)]
        batches = [runnable[i : i + bulk_size] for i in range(0, len(runnable), bulk_size)]
        await run_all(self._product_batch(b) for b in batches)

    async def _product_batch(self, batch: list[Change]) -> None:
        await self.write(batch, lambda: self._bulk(batch))
        await self._confirm_products(batch)

    async def _bulk(self, batch: list[Change]) -> None:
        items = [wire.bulk_item(_product(c), _bulk_operation(c), c.kept) for c in batch]
        try:
            answer = await self.client.bulk_products(items)
        except ValidationFailed:
            # PB rejects a whole bulk request for one bad item (contract §6.3), and its
            # error does not reliably say which. Writing that batch one product at a time
            # costs up to 200 requests once, but lets the good items land and pins PB's
            # error text on the bad one, so one typo never fails 199 good products.
            await run_all(self._single_product(c) for c in batch)
            return
        except RemoteError as e:
            # Outcome unknown (e.g. retries exhausted): the re-read decides what landed.
            for change in batch:
                self.errors[change.address] = WriteError.of(e)
            return
        self._note_item_statuses(batch, answer)

    async def _single_product(self, change: Change) -> None:
        product = _product(change)
        try:
            if change.action == "create":
                await self.client.create_product(wire.product_to_wire(product))
            else:
                body = wire.product_to_wire(product, change.kept)
                await self.client.update_product(product.sku, body)
        except ValidationFailed as e:
            self.errors[change.address] = WriteError.of(e)
            if change.action == "create":
                self.refused_creates.add(change.address)
        except RemoteError as e:
            self.errors[change.address] = WriteError.of(e)

    def _note_item_statuses(self, batch: list[Change], answer: Any) -> None:
        """Keep PB's per-item words for the items a re-read then finds not written."""
        for sku, text in wire.bulk_item_problems(answer).items():
            for change in batch:
                if change.key["sku"] == sku:
                    self.errors.setdefault(change.address, WriteError(text))
                    if change.action == "create":
                        self.refused_creates.add(change.address)

    async def _confirm_products(self, changes: list[Change]) -> None:
        if not changes:
            return
        try:
            found = await read_products(
                self.client, changes[0].key["clientId"], [c.key["sku"] for c in changes]
            )
        except RemoteError as e:
            self.unconfirmed(changes, e)
            return
        for change in changes:
            observed = found.get(change.key["sku"])
            refused = change.address in self.refused_creates
            if refused and observed is not None and _holds(observed[0], change):
                # Exactly what this change creates: a lost attempt of this very run (its
                # answer never came back) or an identical create by another writer.
                self.record(change, "done", HELD_ALREADY)
                continue
            if refused and observed is not None:
                said = self.errors[change.address]
                self.record(change, "failed", HIDDEN.format(said=said.message), said.transaction_id)
                continue
            self.settle(change, None if observed is None else observed[0], _product(change))

    # -- BOMs ------------------------------------------------------------------------

    def dependencies_met(self, change: Change) -> bool:
        """A dependency planned in this run must be done first; one outside it is PB's."""
        for dependency in change.depends_on:
            outcome = self.results.get(dependency)
            if outcome is not None and outcome.status != "done":
                message = f"dependency {dependency} {outcome.status}"
                self.record(change, "skipped", message, dependency=dependency)
                return False
            if outcome is None and dependency in self.planned:
                message = f"dependency {dependency} was not applied first"
                self.record(change, "skipped", message, dependency=dependency)
                return False
        return True

    # -- bookkeeping -----------------------------------------------------------------

    async def write(
        self, changes: list[Change], write: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        """Run one write so that cancelling the caller lets it finish (see ``stop``).

        The gate admits as many writes as the client lets fly at once, so "in flight"
        means sent: writes still queued behind it are cancelled by Ctrl-C, not started.
        """
        async with self.gate:
            if self.stopping:
                raise Stopped
            for change in changes:
                self.attempted[change.address] = change
            task = asyncio.ensure_future(write())
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
            await asyncio.shield(task)

    def settle(self, change: Change, observed: Product | Bom | None, wanted: Product | Bom) -> None:
        # Compared as the plan's diff compares (absent and null alike), so a write that
        # converged is done even if PB drops or adds null fields.
        if observed is not None and comparable(observed) == comparable(wanted):
            self.record(change, "done")
            return
        error = self.errors.get(change.address)
        if error is not None:
            self.record(change, "failed", error.message, error.transaction_id)
        elif observed is None:
            self.record(change, "failed", "PB accepted the write, but a re-read does not find it")
        else:
            fields = _differing_fields(observed, wanted)
            self.record(
                change, "failed", f"PB accepted the write, but a re-read shows other {fields}"
            )

    def unconfirmed(self, changes: list[Change], error: RemoteError) -> None:
        """The re-read failed: what landed is unknown, so nothing is reported done."""
        said = WriteError.of(error)
        for change in changes:
            own = self.errors.get(change.address) or WriteError(
                f"written, but the confirming re-read failed ({said.message})",
                said.transaction_id,
            )
            self.record(change, "failed", own.message, own.transaction_id)

    def record(
        self,
        change: Change,
        status: Status,
        message: str = "",
        txn: str = "",
        *,
        code: str = "",
        dependency: str = "",
    ) -> None:
        error = self.errors.get(change.address) if status == "failed" else None
        if not code and error is not None and error.message in message:
            code = error.code  # PB's code for the words this outcome reports
        again = change.address in self.results  # a second verdict (duplicates.reverify)
        self.results[change.address] = ChangeResult(
            change.address, change.action, status, message, txn, code, dependency
        )
        self.progress.update("apply", advance=0 if again else 1)


def _bulk_operation(change: Change) -> str:
    return wire.BULK_CREATE if change.action == "create" else wire.BULK_UPDATE


def _product(change: Change) -> Product:
    model = change.after_model()
    assert isinstance(model, Product), f"{change.address}: a product change holds a BOM"
    return model


def _differing_fields(observed: Product | Bom, wanted: Product | Bom) -> str:
    have, want = comparable(observed), comparable(wanted)
    names = sorted(k for k in have.keys() | want.keys() if have.get(k) != want.get(k))
    return "values for " + ", ".join(names) if names else "values"
